package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/policylint"
	"github.com/gatehouse-iam/gatehouse/internal/servicedata"
	"github.com/gatehouse-iam/gatehouse/policy"
)

func TestMatchesWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		words  string
		starts []int
		match  bool
	}{
		{"GetItem", "item", []int{0, 3}, true},
		{"BatchWriteItem", "item", []int{0, 5, 10}, true},
		{"BatchGetItem", "get item", []int{0, 5, 8}, true},
		{"BatchGetItem", "getitem", []int{0, 5, 8}, true}, // a word may span words of the name
		{"GetItem", "tem", []int{0, 3}, false},            // not at the start of a word
		{"GetItem", "item put", []int{0, 3}, false},       // every word must match
		{"ListItems", "ITEM", []int{0, 4}, true},
		{"GetSAMLProvider", "saml provider", []int{0, 3, 7}, true},
		{"GetSAMLProvider", "lprovider", []int{0, 3, 7}, false},
		{"PartiQLSelect", "ql", []int{0, 5, 7}, true}, // Parti QL Select
		{"PartiQLSelect", "iql", []int{0, 5, 7}, false},
		{"PartiQLSelect", "select", []int{0, 5, 7}, true},
		{"PutBucketV2", "v2", []int{0, 3, 9}, true},
		{"GetS3Object", "object", []int{0, 3, 5}, true},
		{"Query", "", []int{0}, true},
	}
	for _, tt := range tests {
		t.Run("name="+tt.name+",words="+tt.words, func(t *testing.T) {
			if got := wordStarts(tt.name); !slices.Equal(got, tt.starts) {
				t.Errorf("wordStarts = %v, want %v", got, tt.starts)
			}
			if got := matchesWords(tt.name, strings.Fields(strings.ToLower(tt.words))); got != tt.match {
				t.Errorf("matchesWords = %v, want %v", got, tt.match)
			}
		})
	}
}

func TestARNPattern(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}":                                           "arn:aws:dynamodb:*:*:table/*",
		"arn:${Partition}:s3:::${BucketName}/${ObjectName}":                                                           "arn:aws:s3:::*/*",
		"arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}":                                                   "arn:aws:iam::*:role/*",
		"arn:${Partition}:codeartifact:${Region}:${Account}:package-group/${DomainName}${EncodedPackageGroupPattern}": "arn:aws:codeartifact:*:*:package-group/*",
		"arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}":            "arn:aws:logs:*:*:log-group:*:log-stream:*",
		"arn:aws:s3:::fixed": "arn:aws:s3:::fixed",
	} {
		if got := arnPattern(in); got != want {
			t.Errorf("arnPattern(%q) = %q, want %q", in, got, want)
		}
	}
}

// actionNames runs `policy actions ARGS --output json` and returns the actions it lists.
func actionNames(t *testing.T, args ...string) (int, []string, string) {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"policy", "actions", "--output", "json"}, args...)...)
	if code != 0 {
		return code, nil, errOut
	}
	var got []actionJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var names []string
	for _, a := range got {
		names = append(names, a.Action)
	}
	return code, names, errOut
}

// TestPolicyActionsSelect selects actions of the embedded Service Authorization Reference by
// access level, resource type and search words.
func TestPolicyActionsSelect(t *testing.T) {
	t.Parallel()
	itemActions := []string{"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem",
		"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		// The example: reading and writing table items, without the table management.
		{"dynamodb items", []string{"dynamodb", "--access-level", "read,write", "--resource", "table", "--search", "item"}, itemActions},
		{"dynamodb items, queries and scans", []string{"dynamodb", "--access-level", "read,write", "--resource", "table", "--search", "item,query,scan"},
			[]string{"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem",
				"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem"}},
		{"read only", []string{"dynamodb", "--access-level", "read", "--resource", "table", "--search", "item"},
			[]string{"dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:GetItem"}},
		{"repeated --access-level", []string{"dynamodb", "--access-level", "read", "--access-level", "write", "--resource", "table", "--search", "item"}, itemActions},
		{"every word must match", []string{"dynamodb", "--search", "get item"}, []string{"dynamodb:BatchGetItem", "dynamodb:GetItem"}},
		{"a word across CamelCase words", []string{"dynamodb", "--search", "getitem"}, []string{"dynamodb:BatchGetItem", "dynamodb:GetItem"}},
		{"case ignored", []string{"DynamoDB", "--resource", "TABLE", "--search", "GETITEM", "--access-level", "READ"}, []string{"dynamodb:BatchGetItem", "dynamodb:GetItem"}},
		{"flags before the service", []string{"--search", "getitem", "dynamodb"}, []string{"dynamodb:BatchGetItem", "dynamodb:GetItem"}},
		{"after --", []string{"--search", "getitem", "--", "dynamodb"}, []string{"dynamodb:BatchGetItem", "dynamodb:GetItem"}},
		// "Tagging, Write" and "Permissions management, Write" in the data count as their first level.
		{"tagging", []string{"dynamodb", "--access-level", "tagging"}, []string{"dynamodb:TagResource", "dynamodb:UntagResource"}},
		{"permissions", []string{"dynamodb", "--access-level", "permissions"}, []string{"dynamodb:DeleteResourcePolicy", "dynamodb:PutResourcePolicy", "dynamodb:UpdateAbacStatus"}},
		{"AWS's spelling of a level", []string{"dynamodb", "--access-level", "Permissions management"}, []string{"dynamodb:DeleteResourcePolicy", "dynamodb:PutResourcePolicy", "dynamodb:UpdateAbacStatus"}},
		{"tagging is not write", []string{"dynamodb", "--access-level", "write", "--search", "tag"}, nil},
		{"list", []string{"iam", "--access-level", "list", "--search", "user"},
			[]string{"iam:ListAttachedUserPolicies", "iam:ListGroupsForUser", "iam:ListUserPolicies", "iam:ListUserTags", "iam:ListUsers"}},
		{"acronym", []string{"iam", "--search", "saml provider", "--access-level", "read"}, []string{"iam:GetSAMLProvider"}},
		{"several resource types", []string{"sts", "--resource", "role,federated-user", "--search", "assume role,federation"},
			[]string{"sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity", "sts:GetFederationToken"}},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			t.Parallel()
			wantCode := 0
			if tt.want == nil {
				wantCode = 1
			}
			code, got, errOut := actionNames(t, tt.args...)
			if code != wantCode || !slices.Equal(got, tt.want) {
				t.Fatalf("exit %d, actions %q, stderr %q; want exit %d, %q", code, got, errOut, wantCode, tt.want)
			}
		})
	}
}

func TestPolicyActionsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"unknown service", []string{"dynamo"}, 1, `unknown service prefix "dynamo"; did you mean dynamodb`},
		{"misspelt service", []string{"dynamdb"}, 1, "did you mean dynamodb"},
		{"unknown service, nothing close", []string{"zzzzzzzzzz"}, 1, `unknown service prefix "zzzzzzzzzz" (service prefixes are those of action names`},
		{"global keys are no service", []string{"aws"}, 1, `unknown service prefix "aws"`},
		{"unknown resource type", []string{"dynamodb", "--resource", "tabel"}, 1,
			`Amazon DynamoDB (dynamodb) has no resource type "tabel"; its resource types: backup, export, global-table, import, index, stream, table`},
		{"unknown access level", []string{"dynamodb", "--access-level", "read,reed"}, 2, `unknown access level "reed" (read, write, list, tagging, permissions)`},
		{"nothing matches", []string{"dynamodb", "--search", "tem"}, 1, "no action of Amazon DynamoDB (dynamodb) matches"},
		{"no service", []string{"--search", "item"}, 2, "give the SERVICE prefix"},
		{"unquoted search words", []string{"dynamodb", "--search", "get", "item"}, 2, `unexpected argument "item" (one SERVICE; quote several --search words`},
		{"bad output", []string{"dynamodb", "--output", "yaml"}, 2, "must be text or json"},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, append([]string{"policy", "actions"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.stderr) || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, stderr with %q", code, out, errOut, tt.code, tt.stderr)
			}
		})
	}
	// --help describes the flags (on stderr, as the other subcommands print their help), exit 0.
	code, _, errOut := runCLI(t, "policy", "actions", "--help")
	for _, flag := range []string{"-access-level", "-resource", "-search", "-policy", "-output"} {
		if !strings.Contains(errOut, flag) {
			t.Errorf("--help does not describe %s:\n%s", flag, errOut)
		}
	}
	if code != 0 {
		t.Errorf("--help: exit %d", code)
	}
	if _, out, _ := runCLI(t, "policy", "--help"); !strings.Contains(out, "policy actions SERVICE") {
		t.Errorf("policy --help does not list actions:\n%s", out)
	}
}

func TestPolicyActionsTable(t *testing.T) {
	t.Parallel()
	code, out, errOut := runCLI(t, "policy", "actions", "dynamodb", "--search", "get item,query", "--access-level", "read")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := []string{
		"ACTION                 ACCESS LEVEL  RESOURCE TYPES  CONDITION KEYS",
		"dynamodb:BatchGetItem  Read          table*          dynamodb:Attributes,dynamodb:LeadingKeys,dynamodb:ReturnConsumedCapacity,dynamodb:Select",
		"dynamodb:GetItem       Read          table*          dynamodb:Attributes,dynamodb:EnclosingOperation,dynamodb:LeadingKeys,dynamodb:ReturnConsumedCapacity,dynamodb:Select",
		"dynamodb:Query         Read          index,table*    dynamodb:Attributes,dynamodb:LeadingKeys,dynamodb:ReturnConsumedCapacity,dynamodb:ReturnValues,dynamodb:Select",
	}
	if got := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); !slices.Equal(got, want) {
		t.Fatalf("table\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// An action without resource types or condition keys; a resource type's keys of the action.
	_, out, _ = runCLI(t, "policy", "actions", "dynamodb", "--search", "describe limits")
	if !strings.Contains(out, "\ndynamodb:DescribeLimits  Read          -               -\n") {
		t.Errorf("DescribeLimits:\n%s", out)
	}
	_, out, _ = runCLI(t, "policy", "actions", "a4b", "--search", "associate device with network")
	if !strings.Contains(out, "device*,networkprofile*  aws:ResourceTag/${TagKey}\n") {
		t.Errorf("a4b:AssociateDeviceWithNetworkProfile:\n%s", out)
	}
}

func TestPolicyActionsJSON(t *testing.T) {
	t.Parallel()
	code, out, errOut := runCLI(t, "policy", "actions", "dynamodb", "--search", "query", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	const want = `[
  {
    "action": "dynamodb:Query",
    "accessLevel": "Read",
    "resourceTypes": [
      {
        "name": "index",
        "required": false,
        "arn": "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}/index/${IndexName}",
        "conditionKeys": [],
        "resourceTypeConditionKeys": [
          "aws:ResourceTag/${TagKey}"
        ]
      },
      {
        "name": "table",
        "required": true,
        "arn": "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}",
        "conditionKeys": [],
        "resourceTypeConditionKeys": [
          "aws:ResourceTag/${TagKey}"
        ]
      }
    ],
    "conditionKeys": [
      "dynamodb:Attributes",
      "dynamodb:LeadingKeys",
      "dynamodb:ReturnConsumedCapacity",
      "dynamodb:ReturnValues",
      "dynamodb:Select"
    ],
    "dependentActions": []
  }
]
`
	if out != want {
		t.Fatalf("json\n%s\nwant\n%s", out, want)
	}
}

// checkIdentityPolicy validates doc as `policy validate` does (no error, no warning) and returns
// it parsed.
func checkIdentityPolicy(t *testing.T, doc []byte) *policy.Policy {
	t.Helper()
	ref, err := servicedata.Load()
	if err != nil {
		t.Fatal(err)
	}
	if fds, valid := policylint.Check(doc, policy.Identity, ref); !valid || len(fds) > 0 {
		t.Fatalf("policy validate: valid %v, %+v\n%s", valid, fds, doc)
	}
	p, err := policy.Parse(doc, policy.Identity)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPolicyActionsPolicy(t *testing.T) {
	t.Parallel()
	code, out, errOut := runCLI(t, "policy", "actions", "dynamodb", "--access-level", "read,write", "--resource", "table", "--search", "item", "--policy")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	const want = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem"
      ],
      "Resource": "arn:aws:dynamodb:*:*:table/*"
    }
  ]
}
`
	if out != want {
		t.Fatalf("policy\n%s\nwant\n%s", out, want)
	}
	p := checkIdentityPolicy(t, []byte(out))
	table := "arn:aws:dynamodb:eu-west-1:111122223333:table/Orders"
	for _, tt := range []struct {
		action, resource string
		allowed          bool
	}{
		{"dynamodb:GetItem", table, true},
		{"dynamodb:BatchWriteItem", table, true},
		{"dynamodb:DeleteTable", table, false},
		{"dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:111122223333:table/Orders/index/ByDate", true}, // table/* matches an index too
		{"dynamodb:GetItem", "arn:aws:s3:::bucket", false},
	} {
		if got := p.Decide(&policy.Request{Action: tt.action, Resource: tt.resource}) == policy.Allowed; got != tt.allowed {
			t.Errorf("%s on %s: allowed %v, want %v", tt.action, tt.resource, got, tt.allowed)
		}
	}

	// Without --resource the Resource is "*"; several types give a list; an action that needs
	// a resource type the policy leaves out is noted on stderr.
	code, out, errOut = runCLI(t, "policy", "actions", "iam", "--access-level", "list", "--search", "user", "--policy")
	if code != 0 || !strings.Contains(out, `"Resource": "*"`) || errOut != "" {
		t.Fatalf("exit %d, stdout %s, stderr %q", code, out, errOut)
	}
	checkIdentityPolicy(t, []byte(out))
	code, out, errOut = runCLI(t, "policy", "actions", "s3", "--resource", "bucket,object", "--search", "get object,list bucket", "--access-level", "read,list", "--policy")
	if code != 0 || !strings.Contains(out, "\"Resource\": [\n        \"arn:aws:s3:::*\",\n        \"arn:aws:s3:::*/*\"\n      ]") {
		t.Fatalf("exit %d, stdout %s, stderr %q", code, out, errOut)
	}
	checkIdentityPolicy(t, []byte(out))
	code, out, errOut = runCLI(t, "policy", "actions", "dynamodb", "--resource", "table", "--search", "create global table", "--policy")
	if code != 0 || errOut != "note: dynamodb:CreateGlobalTable also requires a global-table resource, which the policy's Resource does not match\n" {
		t.Fatalf("exit %d, stdout %s, stderr %q", code, out, errOut)
	}
	checkIdentityPolicy(t, []byte(out))
	// A pattern the policy checks refuse (they know no IAM resource "root"): Resource "*", noted.
	code, out, errOut = runCLI(t, "policy", "actions", "sts", "--resource", "root-user", "--policy")
	if code != 0 || !strings.Contains(out, `"Resource": "*"`) || !strings.Contains(out, `"sts:AssumeRoot"`) ||
		!strings.HasPrefix(errOut, `note: policy validate refuses Resource "arn:aws:iam::*:root" (IAM resource path must either be "*" or start with `) {
		t.Fatalf("exit %d, stdout %s, stderr %q", code, out, errOut)
	}
	checkIdentityPolicy(t, []byte(out))
}

// TestPolicyActionsPolicyEveryResourceType: the policy for the actions of every resource type
// of every service passes IAM's checks (`policy validate`).
func TestPolicyActionsPolicyEveryResourceType(t *testing.T) {
	t.Parallel()
	ref, err := servicedata.Load()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var refused []string
	for _, svc := range ref.Services() {
		for _, rt := range svc.ResourceTypes() {
			q := &actionQuery{service: svc.Prefix, resources: []string{rt.Name}}
			_, actions, err := selectActions(ref, q)
			if err != nil {
				continue // a resource type no action takes
			}
			doc, notes, err := actionsPolicy(svc, actions, q.resources)
			if err != nil {
				t.Fatal(err)
			}
			if fds, valid := policylint.Check(doc, policy.Identity, ref); !valid || len(fds) > 0 {
				t.Errorf("%s %s (%s): valid %v, %+v", svc.Prefix, rt.Name, rt.ARN, valid, fds)
			}
			for _, note := range notes {
				if strings.HasPrefix(note, "policy validate refuses") {
					refused = append(refused, svc.Prefix+" "+rt.Name)
				}
			}
			n++
		}
	}
	if n < 2000 {
		t.Errorf("checked %d resource types", n)
	}
	// The ARN templates the policy checks refuse, which the policy replaces with "*". (Newer IAM
	// resource types than the checks know of; should they learn them, drop them here.)
	if want := []string{"iam delegation-request", "iam role-template", "sts root-user"}; !slices.Equal(refused, want) {
		t.Errorf("refused patterns %q, want %q", refused, want)
	}
}

// TestPolicyActionsBinary builds the gatehouse command and runs `policy actions --policy`, then
// `policy validate` on what it printed, as a person would.
func TestPolicyActionsBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gatehouse binary")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "gatehouse")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/gatehouse-iam/gatehouse/cmd/gatehouse").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "policy", "actions", "dynamodb", "--access-level", "read,write", "--resource", "table", "--search", "item,query,scan", "--policy")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, a := range []string{`"dynamodb:GetItem"`, `"dynamodb:Query"`, `"dynamodb:Scan"`, `"Resource": "arn:aws:dynamodb:*:*:table/*"`} {
		if !strings.Contains(string(out), a) {
			t.Errorf("no %s in\n%s", a, out)
		}
	}
	file := filepath.Join(dir, "items.json")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "policy", "validate", file).CombinedOutput(); err != nil || string(out) != file+": ok\n" {
		t.Fatalf("policy validate: %v\n%s", err, out)
	}
	// A person's mistake: exit status 1 and a message naming what to do.
	out, err = exec.Command(bin, "policy", "actions", "dynamo").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "did you mean dynamodb") {
		t.Fatalf("unknown service: %v\n%s", err, out)
	}
}
