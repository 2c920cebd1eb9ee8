package authz

import "strings"

// DeniedMessage returns the message of the AccessDenied error AWS gives for a request that
// res denies, in the format of the IAM User Guide's "Troubleshoot access denied error
// messages":
//
//	User: ARN is not authorized to perform: ACTION on resource: RESOURCE because no
//	identity-based policy allows the ACTION action
//	User: ARN is not authorized to perform: ACTION on resource: RESOURCE with an explicit
//	deny in a permissions boundary
//
// The "on resource" part is left out when the action has no resource ("*"). An implicit
// deny by a role trust policy (sts:AssumeRole*) has no reason part, as AWS answers it. The
// caller is "anonymous" for an anonymous request and the service name for a service
// principal.
func DeniedMessage(req *Request, res Result) string {
	var b strings.Builder
	b.WriteString("User: ")
	switch c := req.Caller; {
	case c == nil || c.Type == Anonymous:
		b.WriteString("anonymous")
	case c.Type == Service:
		b.WriteString(c.Service)
	default:
		b.WriteString(c.ARN)
	}
	b.WriteString(" is not authorized to perform: ")
	b.WriteString(req.Action)
	if req.Resource != "" && req.Resource != "*" {
		b.WriteString(" on resource: ")
		b.WriteString(req.Resource)
	}
	what := policyWords(res.DeniedBy)
	switch {
	case what == "":
	case res.Decision == ExplicitDeny:
		b.WriteString(" with an explicit deny in ")
		b.WriteString(article(what))
		b.WriteString(what)
	case res.DeniedBy == ResourcePolicy && hasPrefixFold(req.Action, "sts:AssumeRole"):
		// AWS does not say why a trust policy did not allow.
	default:
		b.WriteString(" because no ")
		b.WriteString(what)
		b.WriteString(" allows the ")
		b.WriteString(req.Action)
		b.WriteString(" action")
	}
	return b.String()
}

// policyWords names a policy type as AWS's AccessDenied messages do.
func policyWords(t PolicyType) string {
	switch t {
	case IdentityPolicy:
		return "identity-based policy"
	case ResourcePolicy:
		return "resource-based policy"
	case BoundaryPolicy:
		return "permissions boundary"
	case SessionPolicy:
		return "session policy"
	case SCPPolicy:
		return "service control policy"
	case RCPPolicy:
		return "resource control policy"
	}
	return ""
}

func article(words string) string {
	if strings.IndexByte("aeiou", words[0]) >= 0 {
		return "an "
	}
	return "a "
}
