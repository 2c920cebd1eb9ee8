package loadgen

import (
	"fmt"
	"strings"
)

// Op is an operation the generator drives.
type Op string

// The operations the generator knows.
const (
	GetUser           Op = "GetUser"
	CreateUser        Op = "CreateUser"
	ListUsers         Op = "ListUsers"
	GetCallerIdentity Op = "GetCallerIdentity"
	// AssumeRole is signed by an IAM user the run creates (AWS refuses root's AssumeRole), for
	// a role whose trust policy names that user.
	AssumeRole Op = "AssumeRole"
)

// API versions of the Query protocol, sent as the Version parameter.
const (
	iamVersion = "2010-05-08"
	stsVersion = "2011-06-15"
)

// DefaultOps returns the operations run when none are chosen, in the order they run.
func DefaultOps() []Op { return []Op{GetUser, CreateUser, ListUsers, GetCallerIdentity} }

// knownOps are the operations ParseOps accepts: the default ones and AssumeRole, which needs a
// user and a role made for it first.
func knownOps() []Op { return append(DefaultOps(), AssumeRole) }

// Service returns the SigV4 signing name of the service that serves o: "iam" or "sts".
func (o Op) Service() string {
	if o == GetCallerIdentity || o == AssumeRole {
		return "sts"
	}
	return "iam"
}

// ParseOps parses a comma-separated list of operation names (case-insensitive, spaces around
// names ignored) and returns them in the order given. Unknown, duplicate and empty names are
// errors.
func ParseOps(s string) ([]Op, error) {
	var ops []Op
	seen := map[Op]bool{}
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		op, ok := lookupOp(name)
		switch {
		case name == "":
			return nil, fmt.Errorf("empty operation name in %q", s)
		case !ok:
			return nil, fmt.Errorf("unknown operation %q (known: %s)", name, joinOps(knownOps()))
		case seen[op]:
			return nil, fmt.Errorf("operation %s given twice", op)
		}
		seen[op] = true
		ops = append(ops, op)
	}
	return ops, nil
}

func lookupOp(name string) (Op, bool) {
	for _, op := range knownOps() {
		if strings.EqualFold(name, string(op)) {
			return op, true
		}
	}
	return "", false
}

// joinOps returns the names of ops separated by commas, the form ParseOps reads.
func joinOps(ops []Op) string {
	names := make([]string, len(ops))
	for i, op := range ops {
		names[i] = string(op)
	}
	return strings.Join(names, ",")
}
