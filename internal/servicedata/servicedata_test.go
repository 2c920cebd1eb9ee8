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
