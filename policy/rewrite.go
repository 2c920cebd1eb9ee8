package policy

import (
	"bytes"
	"encoding/json"
	"sort"
)

// RewritePrincipals returns doc with every value of the "AWS" member of each statement's
// Principal and NotPrincipal element replaced by what f returns for it; everything else in
// the document stays as written, byte for byte. It is how IAM stores a resource-based policy:
// the users and roles it names become their unique ids when the policy is written, and their
// current ARNs again when it is read. f returns its argument to keep a value. doc must be
// JSON (Parse it first); duplicate members are all rewritten, so none keeps a name that the
// policy's last member hides.
func RewritePrincipals(doc []byte, f func(value string) (string, error)) ([]byte, error) {
	root, err := decodeJSON(doc)
	if err != nil {
		return nil, &Error{Message: msgSyntax, Statement: -1}
	}
	var values []*node
	for _, stmts := range members(root, "Statement") {
		list := []*node{stmts}
		if stmts.kind == nArray {
			list = stmts.elems
		}
		for _, st := range list {
			for _, name := range []string{"Principal", "NotPrincipal"} {
				for _, pr := range members(st, name) {
					for _, v := range members(pr, "AWS") {
						switch v.kind {
						case nString:
							values = append(values, v)
						case nArray:
							for _, e := range v.elems {
								if e.kind == nString {
									values = append(values, e)
								}
							}
						}
					}
				}
			}
		}
	}
	sort.Slice(values, func(i, j int) bool { return values[i].end < values[j].end })
	var out bytes.Buffer
	at := 0
	for _, v := range values {
		repl, err := f(v.str)
		if err != nil {
			return nil, err
		}
		if repl == v.str {
			continue
		}
		start := stringStart(doc, v.end)
		out.Write(doc[at:start])
		enc, _ := json.Marshal(repl) // a string always marshals
		out.Write(enc)
		at = v.end
	}
	if at == 0 {
		return doc, nil
	}
	out.Write(doc[at:])
	return out.Bytes(), nil
}

// members returns the values of n's members named key, in order; none when n is no object.
func members(n *node, key string) []*node {
	if n == nil || n.kind != nObject {
		return nil
	}
	var out []*node
	for i, k := range n.keys {
		if k == key {
			out = append(out, n.vals[i])
		}
	}
	return out
}

// stringStart returns the offset of the opening quote of the JSON string that ends (after its
// closing quote) at end. Inside a string a quote is always escaped, that is preceded by an odd
// number of backslashes, so the first quote before the closing one with an even number is the
// opening one.
func stringStart(doc []byte, end int) int {
	for i := end - 2; i >= 0; i-- {
		if doc[i] != '"' {
			continue
		}
		n := 0
		for j := i - 1; j >= 0 && doc[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return i
		}
	}
	return 0
}
