package console

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// TestLocate: the simulator's positions (the first character inside the statement's brace,
// and just past its closing brace, as SimulatePrincipalPolicy reports them) cut out exactly
// the statement.
func TestLocate(t *testing.T) {
	doc := "{\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"*\"},\n    {\"Effect\": \"Deny\"}\n  ]\n}"
	docs := map[string]string{"user/p": doc}
	for _, tc := range []struct {
		start, end types.Position
		want       string
	}{
		{types.Position{Line: 3, Column: 6}, types.Position{Line: 3, Column: 39}, `{"Effect": "Allow", "Action": "*"}`},
		{types.Position{Line: 4, Column: 6}, types.Position{Line: 4, Column: 23}, `{"Effect": "Deny"}`},
	} {
		m := locate(docs, "iam:GetUser", "allowed", types.Statement{SourcePolicyId: aws.String("p"), SourcePolicyType: types.PolicySourceTypeUser, StartPosition: &tc.start, EndPosition: &tc.end})
		if !m.Found || m.Mark != tc.want || m.Before+m.Mark+m.After != doc {
			t.Errorf("locate %v-%v = %+v, want %q", tc.start, tc.end, m, tc.want)
		}
	}
	if m := locate(docs, "a", "allowed", types.Statement{SourcePolicyId: aws.String("other"), SourcePolicyType: types.PolicySourceTypeUser,
		StartPosition: &types.Position{Line: 1, Column: 2}, EndPosition: &types.Position{Line: 1, Column: 3}}); m.Found {
		t.Errorf("a policy that was not read was found: %+v", m)
	}
}
