package console

import (
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

type simulatorView struct {
	Principal, Actions, Resources, Context string
	Results                                []types.EvaluationResult
}

// simulator runs SimulatePrincipalPolicy for a user, group or role ARN: one decision per
// action and resource, with the statements that decided it.
func (c *Console) simulator(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	p := page{Title: "Policy simulator", S: cs, CSRF: cs.CSRF}
	v := simulatorView{Principal: strings.TrimSpace(r.FormValue("principal")), Actions: r.FormValue("actions"),
		Resources: r.FormValue("resources"), Context: r.FormValue("context")}
	if r.Method == http.MethodPost {
		in := &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(v.Principal), ActionNames: fields(v.Actions), ResourceArns: fields(v.Resources)}
		entries, msg := contextEntries(v.Context)
		if msg != "" {
			p.fail(msg)
		} else {
			in.ContextEntries = entries
			pages := iam.NewSimulatePrincipalPolicyPaginator(c.iamClient(cs), in)
			for pages.HasMorePages() {
				out, err := pages.NextPage(r.Context())
				if err != nil {
					p.fail(apiMessage(err))
					break
				}
				v.Results = append(v.Results, out.EvaluationResults...)
			}
		}
	}
	p.Data = v
	c.render(w, http.StatusOK, "simulator", p)
}

// fields splits a list typed one per line or separated by commas or spaces.
func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// contextEntries reads "key=value" lines (several values separated by commas) as string
// context entries.
func contextEntries(s string) ([]types.ContextEntry, string) {
	var out []types.ContextEntry
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, val, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, "Context keys are given one per line as key=value: " + line
		}
		out = append(out, types.ContextEntry{ContextKeyName: aws.String(strings.TrimSpace(k)), ContextKeyType: types.ContextKeyTypeEnumStringList,
			ContextKeyValues: strings.Split(strings.TrimSpace(val), ",")})
	}
	return out, ""
}
