package awsquery

// MessageRule is how AWS words the validation errors of one shape where the service models do
// not say. The rules below were read from IAM's answers as LocalStack recorded them against AWS
// (localstack/localstack tests/aws/services/iam/*.snapshot.json, February 2026); the tests of
// this package quote them.
type MessageRule struct {
	// HideValue leaves the value out: "Value at 'tags.1.member.key' failed to satisfy
	// constraint: ..." (also for a missing value: "Value at 'thumbprintList' ...").
	HideValue bool
	// MemberNotNull ends the combined constraints of a list's members with "Member must not be
	// null", as IAM lists them for tag keys.
	MemberNotNull bool
	// Path makes a pattern mismatch IAM's own path message rather than a constraint
	// violation; it is reported only when the input has no constraint violations.
	Path bool
}

// messageRules are the MessageRules of each service's shapes, by shape name.
var messageRules = map[string]map[string]MessageRule{
	"iam": {
		// Tags: "Value at 'tags' ... less than or equal to 50", "Value at 'tags.1.member.value'
		// ... less than or equal to 256", "Value at 'tagKeys' failed to satisfy constraint:
		// Member must satisfy constraint: [..., Member must not be null]".
		"tagListType":    {HideValue: true},
		"tagKeyType":     {HideValue: true},
		"tagValueType":   {HideValue: true},
		"tagKeyListType": {HideValue: true, MemberNotNull: true},
		// Paths: "The specified value for path is invalid. ..." for /a and a/, and "Value at
		// 'path' ... less than or equal to 512".
		"pathType":       {HideValue: true, Path: true},
		"policyPathType": {HideValue: true, Path: true},
		"pathPrefixType": {HideValue: true, Path: true},
		// "Value at 'versionId' failed to satisfy constraint: Member must satisfy regular
		// expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?".
		"policyVersionIdType": {HideValue: true},
		// OpenID Connect providers: "Value at 'clientIDList' ...; Value at 'thumbprintList' ...;
		// Value at 'url' ...".
		"OpenIDConnectProviderUrlType": {HideValue: true},
		"clientIDListType":             {HideValue: true},
		"clientIDType":                 {HideValue: true},
		"thumbprintListType":           {HideValue: true},
		"thumbprintType":               {HideValue: true},
		// Passwords (ChangePassword, Create/UpdateLoginProfile): sensitive in AWS's model, so
		// never written back in a message.
		"passwordType": {HideValue: true},
		// A server certificate's private key is sealed at rest; it is never echoed either.
		"privateKeyType": {HideValue: true},
		// "Value at 'minimumPasswordLength' failed to satisfy constraint: Member must have value
		// less than or equal to 128" (test_iam_account_password_policy.snapshot.json).
		"minimumPasswordLengthType":   {HideValue: true},
		"maxPasswordAgeType":          {HideValue: true},
		"passwordReusePreventionType": {HideValue: true},
	},
}

// pathMessage is IAM's answer to a path that does not match its pattern; member is the
// parameter's name as messages spell it (path, newPath, pathPrefix).
func pathMessage(member string) string {
	if member == "pathPrefix" {
		// aws/aws-cli#5860 quotes it for list-policies --path-prefix /foo.
		return "The specified value for pathPrefix is invalid. It must begin with the / character and contain only alphanumeric characters and/or / characters."
	}
	return "The specified value for " + member + " is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters."
}
