package awsquery

import (
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestValidationMessagesAsAWS checks whole messages against IAM's own answers. Sources, unless
// a case says otherwise: LocalStack's recordings of AWS's responses (localstack/localstack,
// tests/aws/services/iam/test_iam_oidc.snapshot.json, test_iam_policies.snapshot.json,
// test_iam_managed_policies.snapshot.json and test_iam_mfa.snapshot.json, recorded February
// 2026): IAM leaves the value out for tags, tag keys, paths, version ids and the OpenID
// Connect provider's URL, client ids and thumbprints, and reports a list of strings whose
// items fail at the list, with every constraint of its members.
func TestValidationMessagesAsAWS(t *testing.T) {
	t.Parallel()
	m := mustModel(t, "iam")
	long := func(c string, n int) string { return strings.Repeat(c, n) }
	tags := func(n int) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			n := strconv.Itoa(i)
			b.WriteString("&Tags.member." + n + ".Key=k" + n + "&Tags.member." + n + ".Value=v")
		}
		return b.String()
	}
	keys := func(n int) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			b.WriteString("&TagKeys.member." + strconv.Itoa(i) + "=k" + strconv.Itoa(i))
		}
		return b.String()
	}
	const tagPattern = `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`
	pathRule := "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters."
	cases := []struct {
		name, op, form, want string
	}{
		{"oidc three members", "CreateOpenIDConnectProvider",
			"Url=" + long("b", 256) + "&ThumbprintList.member.1=" + long("b", 41) + "&ClientIDList.member.1=" + long("b", 256),
			"3 validation errors detected: Value at 'clientIDList' failed to satisfy constraint: Member must satisfy constraint: " +
				"[Member must have length less than or equal to 255, Member must have length greater than or equal to 1]; " +
				"Value at 'thumbprintList' failed to satisfy constraint: Member must satisfy constraint: " +
				"[Member must have length less than or equal to 40, Member must have length greater than or equal to 40]; " +
				"Value at 'url' failed to satisfy constraint: Member must have length less than or equal to 255"},
		{"too many tags", "TagPolicy", "PolicyArn=arn:aws:iam::123456789012:policy/p" + tags(51),
			"1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"},
		{"tag key too long", "CreatePolicy", "PolicyName=p&PolicyDocument=%7B%7D&Tags.member.1.Key=" + long("k", 129) + "&Tags.member.1.Value=v",
			"1 validation error detected: Value at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"tag value too long", "TagPolicy", "PolicyArn=arn:aws:iam::123456789012:policy/p&Tags.member.1.Key=k&Tags.member.1.Value=" + long("v", 257),
			"1 validation error detected: Value at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256"},
		{"tag key character", "TagPolicy", "PolicyArn=arn:aws:iam::123456789012:policy/p&Tags.member.1.Key=a%23b&Tags.member.1.Value=v",
			"1 validation error detected: Value at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: " + tagPattern},
		{"too many tag keys", "UntagPolicy", "PolicyArn=arn:aws:iam::123456789012:policy/p" + keys(51),
			"1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to 50"},
		{"tag key too long to untag", "UntagPolicy", "PolicyArn=arn:aws:iam::123456789012:policy/p&TagKeys.member.1=" + long("k", 129),
			"1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: " +
				"[Member must have length less than or equal to 128, Member must have length greater than or equal to 1, " +
				"Member must satisfy regular expression pattern: " + tagPattern + ", Member must not be null]"},
		{"version id", "GetPolicyVersion", "PolicyArn=arn:aws:iam::aws:policy/ReadOnlyAccess&VersionId=1",
			`1 validation error detected: Value at 'versionId' failed to satisfy constraint: Member must satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`},
		{"path without leading slash", "CreateVirtualMFADevice", "VirtualMFADeviceName=d&Path=a/", pathRule},
		{"path without trailing slash", "CreateVirtualMFADevice", "VirtualMFADeviceName=d&Path=/a", pathRule},
		{"path too long", "CreateVirtualMFADevice", "VirtualMFADeviceName=d&Path=/" + long("a", 511) + "/",
			"1 validation error detected: Value at 'path' failed to satisfy constraint: Member must have length less than or equal to 512"},
		// aws/aws-cli#5860: list-policies --path-prefix /foo.
		{"policy path prefix", "ListPolicies", "PathPrefix=/foo",
			"The specified value for pathPrefix is invalid. It must begin with the / character and contain only alphanumeric characters and/or / characters."},
		// Where AWS documents nothing: IAM checks the path after the model's constraints, so
		// another member's violation is reported alone.
		{"path and another violation", "CreateUser", "UserName=bad%20name&Path=/a",
			`1 validation error detected: Value 'bad name' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`},
		{"new path names its member", "UpdateUser", "UserName=u&NewPath=x",
			"The specified value for newPath is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters."},
		// Other members keep their values, as before.
		{"user name shows its value", "CreateUser", "UserName=" + long("a", 65),
			"1 validation error detected: Value '" + long("a", 65) + "' at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64"},
	}
	for _, c := range cases {
		t.Run("case="+c.name, func(t *testing.T) {
			t.Parallel()
			form, err := url.ParseQuery(c.form)
			if err != nil {
				t.Fatal(err)
			}
			op := m.Operations[c.op]
			err = Decode(op, form, newInputFor(t, c.op))
			e := AsError(err)
			if e == nil || e.Code != "ValidationError" || e.Status != http.StatusBadRequest || e.Message != c.want {
				t.Fatalf("Decode error = %v\nwant ValidationError: %s", err, c.want)
			}
		})
	}
}

// newInputFor returns a new aws-sdk-go-v2 input struct of IAM operation op.
func newInputFor(t *testing.T, op string) any {
	t.Helper()
	m, ok := reflect.TypeOf(iam.New(iam.Options{})).MethodByName(op)
	if !ok {
		t.Fatalf("aws-sdk-go-v2 has no IAM operation %s", op)
	}
	return reflect.New(m.Type.In(2).Elem()).Interface()
}
