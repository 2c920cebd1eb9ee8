// Package policy parses, validates, compiles and evaluates AWS IAM policy documents. It has no
// dependency on HTTP or storage, so any Go program can import it.
//
// Parse validates a document as IAM validates the kind of policy it is (Type) and returns the
// *Error whose Message is AWS's MalformedPolicyDocument text when it is not valid. The compiled
// *Policy is immutable and safe for concurrent use; Evaluate matches a Request (principal,
// action, resource, condition context) against its statements and says whether a statement
// allows, denies, or none applies, with the statements that matched and where they are in the
// document. A Set indexes many policies by service and action, so that policies that cannot
// match an action cost nothing when deciding it.
//
// The behaviour follows the IAM User Guide: the JSON policy element reference and grammar,
// condition operators, policy variables, and multivalued context keys. Combining the decisions
// of several policy types (identity, resource, boundary, session, SCP, RCP) is the job of the
// caller; Result carries what it needs (explicit deny, how the Principal element matched).
package policy
