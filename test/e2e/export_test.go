package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-iam/gatehouse/internal/pgtest"
)

// TestExportImportRoundTrip: a deployment with users, access keys, a console password, groups,
// managed policies with versions, inline policies, roles, an instance profile, an OIDC
// provider, an MFA device, the alias and the password policy is exported while it serves and
// imported into a new data directory; every entity reads back the same through aws-sdk-go-v2,
// and a user's access key (a sealed secret) signs requests there. An import with another
// master key, or into a deployment that has accounts, imports nothing. It runs between every
// pair of backends: SQLite to SQLite, SQLite to PostgreSQL and PostgreSQL to SQLite.
func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		fromPG, toPG bool
	}{
		{"sqlite to sqlite", false, false},
		{"sqlite to postgres", false, true},
		{"postgres to sqlite", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			exportImportRoundTrip(t, tc.fromPG, tc.toPG)
		})
	}
}

// databaseArgs are the flags that put a command's deployment in a new PostgreSQL database, or
// none for the data directory's SQLite file.
func databaseArgs(t *testing.T, pg bool) []string {
	if !pg {
		return nil
	}
	return []string{"--database", pgtest.Database(t)}
}

func exportImportRoundTrip(t *testing.T, fromPG, toPG bool) {
	ctx := context.Background()
	dir := t.TempDir()
	fromDB, toDB := databaseArgs(t, fromPG), databaseArgs(t, toPG)
	p := startProcess(t, dir, fromDB...)
	root, _ := procClients(p, testRoot.KeyID, testRoot.Secret)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	doc := func(action string) *string {
		return aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"*"}]}`)
	}
	must(root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/team/"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}))
	key, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	must(key, err)
	must(root.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Alice-Passw0rd-1!")}))
	must(root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}))
	must(root.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")}))
	pol, err := root.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("reads"), PolicyDocument: doc("iam:Get*")})
	must(pol, err)
	must(root.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: pol.Policy.Arn, PolicyDocument: doc("iam:List*"), SetAsDefault: true}))
	must(root.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: pol.Policy.Arn}))
	must(root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))
	must(root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("inline"), PolicyDocument: doc("sts:GetCallerIdentity")}))
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + testRoot.Account + `:user/team/alice"},"Action":"sts:AssumeRole"}]}`
	must(root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(trust)}))
	must(root.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("app-profile")}))
	must(root.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("app-profile"), RoleName: aws.String("app")}))
	must(root.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://token.example.com"), ClientIDList: []string{"sts.amazonaws.com"},
		ThumbprintList: []string{"9e99a48a9960b14926bb7f3b02e22da2b0ab7280"}}))
	must(root.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("spare")}))
	must(root.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("export-test")}))
	must(root.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(12), RequireSymbols: true}))

	export := filepath.Join(t.TempDir(), "deployment.jsonl")
	if out, err := exec.Command(gatehouseBinary(t), append([]string{"export", "--data-dir", dir, "--to", export}, fromDB...)...).CombinedOutput(); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	importInto := func(target string, env ...string) (string, error) {
		cmd := exec.Command(gatehouseBinary(t), append([]string{"import", "--data-dir", target, "--from", export}, toDB...)...)
		cmd.Env = append(withoutGatehouseEnv(os.Environ()), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	target := t.TempDir()
	if out, err := importInto(target, "GATEHOUSE_MASTER_KEY="+strings.Repeat("cd", 32)); err == nil || !strings.Contains(out, "not this deployment's key") {
		t.Fatalf("import with another master key: %v %s", err, out)
	}
	key0, err := os.ReadFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "master.key"), key0, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := importInto(target); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if out, err := importInto(target); err == nil || !strings.Contains(out, "already has") {
		t.Fatalf("a second import into the same deployment: %v %s", err, out)
	}

	q := startProcess(t, target, toDB...)
	copyRoot, _ := procClients(q, testRoot.KeyID, testRoot.Secret)
	for _, read := range []struct {
		name string
		get  func(*iam.Client) (any, error)
	}{
		{"authorization details", func(c *iam.Client) (any, error) {
			return c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})
		}},
		{"access keys", func(c *iam.Client) (any, error) {
			return c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
		}},
		{"login profile", func(c *iam.Client) (any, error) {
			return c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")})
		}},
		{"instance profiles", func(c *iam.Client) (any, error) { return c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{}) }},
		{"OIDC providers", func(c *iam.Client) (any, error) {
			return c.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
		}},
		{"virtual MFA devices", func(c *iam.Client) (any, error) {
			return c.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{})
		}},
		{"alias", func(c *iam.Client) (any, error) { return c.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{}) }},
		{"password policy", func(c *iam.Client) (any, error) {
			return c.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
		}},
		{"policy versions", func(c *iam.Client) (any, error) {
			return c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: pol.Policy.Arn})
		}},
	} {
		want, err := read.get(root)
		if err != nil {
			t.Fatalf("%s on the source: %v", read.name, err)
		}
		got, err := read.get(copyRoot)
		if err != nil {
			t.Fatalf("%s on the imported deployment: %v", read.name, err)
		}
		if !reflect.DeepEqual(outputJSON(t, got), outputJSON(t, want)) {
			t.Errorf("%s differ:\n got %s\nwant %s", read.name, outputJSON(t, got), outputJSON(t, want))
		}
	}
	_, aliceSTS := procClients(q, aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey))
	who, err := aliceSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:iam::"+testRoot.Account+":user/team/alice" {
		t.Fatalf("alice's key on the imported deployment: %v %v", who, err)
	}
}

// outputJSON is an SDK output without its response metadata, as JSON, for comparing.
func outputJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "ResultMetadata")
	b, _ = json.Marshal(m)
	return string(b)
}
