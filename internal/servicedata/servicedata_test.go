package servicedata_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/servicedata"
)

func TestReference(t *testing.T) {
	t.Parallel()
	ref, err := servicedata.Load()
	if err != nil {
		t.Fatal(err)
	}
	actions := []struct {
		in    string
		ok    bool
		name  string
		level string
	}{
		{"iam:CreateUser", true, "CreateUser", "Write"},
		{"IAM:createuser", true, "CreateUser", "Write"},
		{"s3:GetObject", true, "GetObject", "Read"},
		{"sts:AssumeRole", true, "AssumeRole", ""},
		{"iam:CreateUsers", false, "", ""},
		{"nosuchservice:Get", false, "", ""},
		{"iam", false, "", ""},
	}
	for _, tt := range actions {
		t.Run("action="+tt.in, func(t *testing.T) {
			a, ok := ref.Action(tt.in)
			if ok != tt.ok || ok && (a.Name != tt.name || tt.level != "" && a.AccessLevel != tt.level) {
				t.Fatalf("Action(%q) = %+v, %v", tt.in, a, ok)
			}
		})
	}
	// Resource types as the Service Authorization Reference lists them, required ones with "*".
	for action, want := range map[string]string{"s3:GetObject": "accesspointobject,object", "dynamodb:GetItem": "table*", "iam:ListUsers": ""} {
		a, _ := ref.Action(action)
		if got := strings.Join(a.ResourceTypes, ","); got != want {
			t.Errorf("%s resource types %q, want %q", action, got, want)
		}
	}
	var services int
	for _, svc := range ref.Services() {
		if svc.Prefix == "aws" || len(svc.ActionsByLevel()) == 0 {
			t.Errorf("Services() lists %q with %d actions", svc.Prefix, len(svc.ActionsByLevel()))
		}
		services++
	}
	if services < 300 {
		t.Errorf("Services() lists %d services", services)
	}
	keys := []struct {
		in, typ string
		ok      bool
	}{
		{"aws:SourceIp", "IPAddress", true},
		{"AWS:sourceip", "IPAddress", true},
		{"aws:ResourceTag/team", "String", true},
		{"aws:ResourceTag/", "", false},
		{"aws:MultiFactorAuthPresent", "Bool", true},
		{"aws:NoSuchKey", "", false},
		{"iam:PermissionsBoundary", "ARN", true},
		{"s3:prefix", "String", true},
		{"sts:ExternalId", "String", true},
		{"s3:NoSuchKey", "", false},
		{"nosuch:key", "", false},
	}
	for _, tt := range keys {
		t.Run("key="+tt.in, func(t *testing.T) {
			k, ok := ref.ConditionKey(tt.in)
			if ok != tt.ok || ok && k.Type != tt.typ {
				t.Fatalf("ConditionKey(%q) = %+v, %v", tt.in, k, ok)
			}
		})
	}
	if _, ok := ref.Service("s3"); !ok {
		t.Error("no s3 service")
	}
	if _, ok := ref.Service("aws"); ok {
		t.Error("aws is not a service prefix of actions")
	}
	if s, _ := ref.Service("iam"); len(s.Actions()) < 100 {
		t.Errorf("iam has %d actions", len(s.Actions()))
	}
}

// TestActionDetails: the condition keys, resource types and ARN templates each action keeps
// from the reference.
func TestActionDetails(t *testing.T) {
	t.Parallel()
	ref, err := servicedata.Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		action    string
		level     string   // Level()
		keys      string   // ConditionKeys(), joined with ","
		resources []string // Resources() as name[*][:keys]
	}{
		{"dynamodb:GetItem", "Read", "dynamodb:Attributes,dynamodb:EnclosingOperation,dynamodb:LeadingKeys,dynamodb:ReturnConsumedCapacity,dynamodb:Select",
			[]string{"table*"}},
		{"dynamodb:Query", "Read", "dynamodb:Attributes,dynamodb:LeadingKeys,dynamodb:ReturnConsumedCapacity,dynamodb:ReturnValues,dynamodb:Select",
			[]string{"index", "table*"}},
		{"dynamodb:TagResource", "Tagging", "aws:RequestTag/${TagKey},aws:TagKeys", []string{"stream*", "table*"}},
		{"dynamodb:PutResourcePolicy", "Permissions management", "", []string{"stream*", "table*"}},
		{"s3:GetObject", "Read", "s3:AccessGrantsInstanceArn,s3:ExistingObjectTag/<key>,s3:ResourceAccount,s3:TlsVersion,s3:authType,s3:signatureAge,s3:signatureversion,s3:x-amz-content-sha256",
			[]string{"accesspointobject", "object"}},
		{"iam:ListUsers", "List", "", nil},
		// A condition key the reference lists for the action with one resource type.
		{"a4b:AssociateDeviceWithNetworkProfile", "Write", "", []string{"device*:aws:ResourceTag/${TagKey}", "networkprofile*"}},
	}
	for _, tt := range tests {
		t.Run("action="+tt.action, func(t *testing.T) {
			a, ok := ref.Action(tt.action)
			if !ok {
				t.Fatal("no such action")
			}
			if a.Level() != tt.level {
				t.Errorf("Level() = %q (AccessLevel %q), want %q", a.Level(), a.AccessLevel, tt.level)
			}
			if got := strings.Join(a.ConditionKeys(), ","); got != tt.keys {
				t.Errorf("ConditionKeys() = %q, want %q", got, tt.keys)
			}
			var got []string
			for _, r := range a.Resources() {
				s := r.Name
				if r.Required {
					s += "*"
				}
				if len(r.ConditionKeys) > 0 {
					s += ":" + strings.Join(r.ConditionKeys, ",")
				}
				got = append(got, s)
			}
			if strings.Join(got, " ") != strings.Join(tt.resources, " ") {
				t.Errorf("Resources() = %q, want %q", got, tt.resources)
			}
			if len(a.Resources()) != len(a.ResourceTypes) {
				t.Errorf("%d Resources, %d ResourceTypes", len(a.Resources()), len(a.ResourceTypes))
			}
			// This snapshot of the reference lists no dependent actions.
			if d := a.DependentActions(); d != nil {
				t.Errorf("DependentActions() = %q", d)
			}
		})
	}

	ddb, _ := ref.Service("dynamodb")
	for _, tt := range []struct {
		name, arn string
		ok        bool
	}{
		{"table", "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}", true},
		{"TABLE", "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}", true},
		{"index", "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}/index/${IndexName}", true},
		{"bucket", "", false},
	} {
		rt, ok := ddb.ResourceType(tt.name)
		if ok != tt.ok || rt.ARN != tt.arn {
			t.Errorf("ResourceType(%q) = %+v, %v", tt.name, rt, ok)
		}
	}
	if rt, _ := ddb.ResourceType("table"); strings.Join(rt.ConditionKeys, ",") != "aws:ResourceTag/${TagKey}" {
		t.Errorf("table condition keys %q", rt.ConditionKeys)
	}
	var names []string
	for _, rt := range ddb.ResourceTypes() {
		names = append(names, rt.Name)
	}
	if got := strings.Join(names, ","); got != "backup,export,global-table,import,index,stream,table" {
		t.Errorf("dynamodb resource types %s", got)
	}
	// Every resource type an action takes is one of its service's, with an ARN template.
	for _, svc := range ref.Services() {
		for _, a := range svc.ActionsByLevel() {
			for _, r := range a.Resources() {
				if rt, ok := svc.ResourceType(r.Name); !ok || !strings.HasPrefix(rt.ARN, "arn:") {
					t.Errorf("%s:%s takes resource type %q: %+v, %v", svc.Prefix, a.Name, r.Name, rt, ok)
				}
			}
		}
	}
}
