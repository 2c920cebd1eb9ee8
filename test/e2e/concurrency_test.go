package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-iam/gatehouse/internal/config"
)

// Conflicting writes (issue 11, point 3): N parallel aws-sdk-go-v2 calls that contend for one
// name, one quota or one entity resolve as AWS does, exactly once, and leave no dangling row.
// Each case runs against two nodes of a fleet on one PostgreSQL database (call i goes to node
// i%2 unless the case says otherwise) and against one server on SQLite; the clients do not
// retry, so every answer is the server's first.

// concParallel is how many calls race in a case.
const concParallel = 12

// concScene is one backend under test: the servers and root clients of its first account.
type concScene struct {
	t    *testing.T
	ctx  context.Context
	envs []*env        // the two nodes; on SQLite the same env twice
	root []*iam.Client // root of the first account, one per node, without retries
}

type concBackend struct {
	name  string
	nodes func(t *testing.T) []*env
}

var concBackends = []concBackend{
	{"postgres-2-nodes", func(t *testing.T) []*env { return newFleet(t, 2) }},
	{"sqlite", func(t *testing.T) []*env {
		// SQLite even when the suite runs on PostgreSQL (GATEHOUSE_E2E_BACKEND).
		e := newEnvWith(t, nil, func(c *config.Config) { c.DatabaseURL = "" })
		if _, err := os.Stat(filepath.Join(e.DataDir, config.DatabaseFile)); err != nil {
			t.Fatalf("the server is not on SQLite: %v", err)
		}
		return []*env{e, e}
	}},
}

type concCase struct {
	name string
	run  func(s *concScene)
}

func TestConcurrentWrites(t *testing.T) {
	t.Parallel() // with the rest of the suite; the cases themselves run one at a time
	for _, tc := range []concCase{
		{"create-user-names-differing-in-case", concCreateUserCase},
		{"attach-user-policy-while-deleting-user", func(s *concScene) { concAttachWhileDeleting(s, concUsers) }},
		{"attach-role-policy-while-deleting-role", func(s *concScene) { concAttachWhileDeleting(s, concRoles) }},
		{"attach-group-policy-while-deleting-group", func(s *concScene) { concAttachWhileDeleting(s, concGroups) }},
		{"attach-while-deleting-policy", concAttachWhileDeletingPolicy},
		{"fifth-policy-version", concFifthPolicyVersion},
		{"third-access-key", concThirdAccessKey},
		{"same-alias-on-two-nodes", concSameAlias},
		{"different-aliases-at-once", concDifferentAliases},
		{"same-alias-two-accounts", concAliasTwoAccounts},
		{"login-profile-twice", concLoginProfile},
		{"add-user-to-group-while-deleting-group", concJoinWhileDeletingGroup},
		{"eleventh-group-of-a-user", concGroupsPerUser},
		{"eleventh-policy-of-a-user", concPoliciesPerUser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, b := range concBackends {
				t.Run(b.name, func(t *testing.T) {
					envs := b.nodes(t)
					ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
					defer cancel()
					s := &concScene{t: t, ctx: ctx, envs: envs}
					for _, e := range envs {
						s.root = append(s.root, concClient(e, e.Root))
					}
					tc.run(s)
					concNoDangling(s)
				})
			}
		})
	}
}

// concClient is an IAM client of e signed with c that makes each call once: a retried call
// would hide the server's first answer (a 500, a 503) behind a later one.
func concClient(e *env, c config.Credentials) *iam.Client {
	return iam.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, ""),
		BaseEndpoint:     aws.String(e.URL),
		RetryMaxAttempts: 1,
	})
}

// iam is the root client of the node call i goes to.
func (s *concScene) iam(i int) *iam.Client { return s.root[i%len(s.root)] }

// fire runs call(0..n-1) at once, each in its own goroutine released together, and returns the
// answers by index.
func (s *concScene) fire(n int, call func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var ready, done sync.WaitGroup
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = call(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

// must fails the test on a setup or check call that failed.
func (s *concScene) must(err error, what string) {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("%s: %v", what, err)
	}
}

// concAnswer is an answer as code and message; "" for success, "?" for an error that is not
// an API error (a broken connection).
func concAnswer(err error) (code, msg string) {
	if err == nil {
		return "", ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "?", err.Error()
}

// concIs reports whether err is the API error code with exactly msg.
func concIs(err error, code, msg string) bool {
	c, m := concAnswer(err)
	return c == code && m == msg
}

// tally checks that every answer is allowed, want(i) mapping each code answer i may have ("" for
// success) to its exact message, and returns how many answers had each code.
func (s *concScene) tally(op string, errs []error, want func(i int) map[string]string) map[string]int {
	s.t.Helper()
	n := map[string]int{}
	for i, err := range errs {
		code, msg := concAnswer(err)
		w, ok := want(i)[code]
		if !ok || (code != "" && msg != w) {
			got := "success"
			if err != nil {
				got = fmt.Sprintf("%s %q", code, msg)
			}
			s.t.Errorf("%s #%d answered %s; allowed (code: message, \"\" success): %q", op, i, got, want(i))
		}
		n[code]++
	}
	return n
}

// concDoc is a managed policy document, distinct for each n.
func concDoc(n int) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::conc-%d/*"}]}`, n)
}

const concTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func (s *concScene) createPolicy(name string, n int) string {
	s.t.Helper()
	out, err := s.root[0].CreatePolicy(s.ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(concDoc(n))})
	s.must(err, "CreatePolicy "+name)
	return aws.ToString(out.Policy.Arn)
}

func (s *concScene) createUser(name string) {
	s.t.Helper()
	_, err := s.root[0].CreateUser(s.ctx, &iam.CreateUserInput{UserName: aws.String(name)})
	s.must(err, "CreateUser "+name)
}

// concCaseOf returns name with letter j upper-cased where bit j of mask is set.
func concCaseOf(name string, mask int) string {
	b := []byte(name)
	for j := range b {
		if mask&(1<<j) != 0 {
			b[j] = strings.ToUpper(string(b[j]))[0]
		}
	}
	return string(b)
}

// CreateUser of "alice", "Alice", "aLice", ... at once: "Names are not distinguished by case.
// For example, you cannot create resources named both "MyResource" and "myresource"" (IAM API
// Reference, CreateUser's UserName), so
// exactly one is created; every other call is EntityAlreadyExists "User with name X already
// exists." (AWS's text as quoted in ucopacme/aws-orgs issue 12). Which spelling the message
// echoes when the names differ in case is not documented: the server echoes the request's.
func concCreateUserCase(s *concScene) {
	names := make([]string, concParallel)
	for i := range names {
		names[i] = concCaseOf("alice", i)
	}
	ids := make([]string, concParallel)
	errs := s.fire(concParallel, func(i int) error {
		out, err := s.iam(i).CreateUser(s.ctx, &iam.CreateUserInput{UserName: aws.String(names[i])})
		if err == nil {
			ids[i] = aws.ToString(out.User.UserId)
		}
		return err
	})
	n := s.tally("CreateUser", errs, func(i int) map[string]string {
		return map[string]string{"": "", "EntityAlreadyExists": "User with name " + names[i] + " already exists."}
	})
	if n[""] != 1 {
		s.t.Fatalf("%d of %d CreateUser calls succeeded, want exactly 1", n[""], concParallel)
	}
	winner := slices.IndexFunc(errs, func(err error) bool { return err == nil })
	for node := range s.root {
		users, err := s.root[node].ListUsers(s.ctx, &iam.ListUsersInput{})
		s.must(err, "ListUsers")
		if len(users.Users) != 1 || aws.ToString(users.Users[0].UserName) != names[winner] || aws.ToString(users.Users[0].UserId) != ids[winner] {
			s.t.Errorf("node %d ListUsers = %+v, want the one user %s (%s)", node, users.Users, names[winner], ids[winner])
		}
		// Any spelling finds the user, under the winner's spelling.
		got, err := s.root[node].GetUser(s.ctx, &iam.GetUserInput{UserName: aws.String("ALICE")})
		s.must(err, "GetUser ALICE")
		if aws.ToString(got.User.UserName) != names[winner] {
			s.t.Errorf("node %d GetUser ALICE = %s, want %s", node, aws.ToString(got.User.UserName), names[winner])
		}
		sum, err := s.root[node].GetAccountSummary(s.ctx, &iam.GetAccountSummaryInput{})
		s.must(err, "GetAccountSummary")
		if sum.SummaryMap["Users"] != 1 {
			s.t.Errorf("node %d GetAccountSummary Users = %d, want 1", node, sum.SummaryMap["Users"])
		}
	}
}

// concKind is a kind of principal that managed policies attach to.
type concKind struct {
	label    string // as the messages name it
	create   func(ctx context.Context, c *iam.Client, name string) error
	attach   func(ctx context.Context, c *iam.Client, name, arn string) error
	del      func(ctx context.Context, c *iam.Client, name string) error
	attached func(ctx context.Context, c *iam.Client, name string) ([]types.AttachedPolicy, error)
}

var (
	concUsers = concKind{
		label: "user",
		create: func(ctx context.Context, c *iam.Client, name string) error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
			return err
		},
		attach: func(ctx context.Context, c *iam.Client, name, arn string) error {
			_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: aws.String(arn)})
			return err
		},
		del: func(ctx context.Context, c *iam.Client, name string) error {
			_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(name)})
			return err
		},
		attached: func(ctx context.Context, c *iam.Client, name string) ([]types.AttachedPolicy, error) {
			out, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(name)})
			if err != nil {
				return nil, err
			}
			return out.AttachedPolicies, nil
		},
	}
	concRoles = concKind{
		label: "role",
		create: func(ctx context.Context, c *iam.Client, name string) error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(concTrust)})
			return err
		},
		attach: func(ctx context.Context, c *iam.Client, name, arn string) error {
			_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(arn)})
			return err
		},
		del: func(ctx context.Context, c *iam.Client, name string) error {
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)})
			return err
		},
		attached: func(ctx context.Context, c *iam.Client, name string) ([]types.AttachedPolicy, error) {
			out, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
			if err != nil {
				return nil, err
			}
			return out.AttachedPolicies, nil
		},
	}
	concGroups = concKind{
		label: "group",
		create: func(ctx context.Context, c *iam.Client, name string) error {
			_, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(name)})
			return err
		},
		attach: func(ctx context.Context, c *iam.Client, name, arn string) error {
			_, err := c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(name), PolicyArn: aws.String(arn)})
			return err
		},
		del: func(ctx context.Context, c *iam.Client, name string) error {
			_, err := c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String(name)})
			return err
		},
		attached: func(ctx context.Context, c *iam.Client, name string) ([]types.AttachedPolicy, error) {
			out, err := c.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String(name)})
			if err != nil {
				return nil, err
			}
			return out.AttachedPolicies, nil
		},
	}
)

// concRounds is how many times a join-or-delete race is run, each on fresh entities, so that
// both outcomes are likely to be seen.
const concRounds = 4

// joinOrDelete checks the answers of joins (even i) racing deletes (odd i) of one entity. Each
// write is one transaction, so either a delete came before every join (that delete succeeded,
// the other deletes answer deleteGone and every join joinGone) or a join came first (every
// join succeeded, every delete answered conflict). It returns whether the delete won.
func (s *concScene) joinOrDelete(op string, errs []error, joinGone, deleteGone, conflict string) bool {
	s.t.Helper()
	deleted := false
	for i := 1; i < len(errs); i += 2 {
		deleted = deleted || errs[i] == nil
	}
	s.tally(op, errs, func(i int) map[string]string {
		switch {
		case deleted && i%2 == 0:
			return map[string]string{"NoSuchEntity": joinGone}
		case deleted:
			return map[string]string{"": "", "NoSuchEntity": deleteGone}
		case i%2 == 0:
			return map[string]string{"": ""}
		default:
			return map[string]string{"DeleteConflict": conflict}
		}
	})
	if deleted {
		ok := 0
		for i := 1; i < len(errs); i += 2 {
			if errs[i] == nil {
				ok++
			}
		}
		if ok != 1 {
			s.t.Errorf("%s: %d deletes succeeded, want 1", op, ok)
		}
	}
	return deleted
}

// Attach<Kind>Policy racing Delete<Kind> of one principal: the delete wins (the attaches answer
// NoSuchEntity "The user with name X cannot be found.") or an attach does (the deletes answer
// DeleteConflict "Cannot delete entity, must detach all policies first.", AWS's text as moto
// and LocalStack record it). After either, the principal and the policy agree.
func concAttachWhileDeleting(s *concScene, k concKind) {
	arn := s.createPolicy("shared", 0)
	wins := 0
	for r := range concRounds {
		name := fmt.Sprintf("%s-%d", k.label, r)
		s.must(k.create(s.ctx, s.root[0], name), "create "+name)
		errs := s.fire(concParallel, func(i int) error {
			c := s.iam(i / 2) // attaches and deletes both go to both nodes
			if i%2 == 0 {
				return k.attach(s.ctx, c, name, arn)
			}
			return k.del(s.ctx, c, name)
		})
		gone := fmt.Sprintf("The %s with name %s cannot be found.", k.label, name)
		deleted := s.joinOrDelete("attach/delete "+name, errs, gone, gone, "Cannot delete entity, must detach all policies first.")
		for node, c := range s.root {
			got, err := k.attached(s.ctx, c, name)
			switch {
			case deleted && !concIs(err, "NoSuchEntity", gone):
				s.t.Errorf("node %d: %s was deleted, yet its attached policies are %+v, %v", node, name, got, err)
			case !deleted && (err != nil || len(got) != 1 || aws.ToString(got[0].PolicyArn) != arn):
				s.t.Errorf("node %d: %s was not deleted, its attached policies are %+v, %v; want %s", node, name, got, err, arn)
			}
		}
		if deleted {
			wins++
		}
	}
	s.t.Logf("the delete won %d of %d rounds", wins, concRounds)
}

// AttachUserPolicy of one policy to several users racing DeletePolicy: the delete wins (the
// attaches answer NoSuchEntity, the other deletes "Policy X was not found.") or an attach does
// (DeleteConflict "Cannot delete a policy attached to entities.", AWS's text quoted in
// pulumi-aws's PolicyAttachment docs and moto).
func concAttachWhileDeletingPolicy(s *concScene) {
	users := make([]string, concParallel/2)
	for i := range users {
		users[i] = fmt.Sprintf("holder-%d", i)
		s.createUser(users[i])
	}
	wins := 0
	for r := range concRounds {
		arn := s.createPolicy(fmt.Sprintf("doomed-%d", r), r)
		errs := s.fire(concParallel, func(i int) error {
			c := s.iam(i / 2)
			if i%2 == 0 {
				_, err := c.AttachUserPolicy(s.ctx, &iam.AttachUserPolicyInput{UserName: aws.String(users[i/2]), PolicyArn: aws.String(arn)})
				return err
			}
			_, err := c.DeletePolicy(s.ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
			return err
		})
		deleted := s.joinOrDelete("attach/DeletePolicy "+arn, errs,
			"Policy "+arn+" does not exist or is not attachable.", "Policy "+arn+" was not found.",
			"Cannot delete a policy attached to entities.")
		for node, c := range s.root {
			p, err := c.GetPolicy(s.ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
			switch {
			case deleted && !concIs(err, "NoSuchEntity", "Policy "+arn+" was not found."):
				s.t.Errorf("node %d: %s was deleted, yet GetPolicy = %+v, %v", node, arn, p, err)
			case !deleted && (err != nil || aws.ToInt32(p.Policy.AttachmentCount) != int32(len(users))):
				s.t.Errorf("node %d: %s was not deleted; GetPolicy = %+v, %v; want %d attachments", node, arn, p, err, len(users))
			}
		}
		if deleted {
			wins++
		}
	}
	s.t.Logf("the delete won %d of %d rounds", wins, concRounds)
}

// CreatePolicyVersion racing on a policy with 4 versions: exactly one makes the fifth; the rest
// answer LimitExceeded "A managed policy can have up to 5 versions. Before you create a new
// version, you must delete an existing version." (AWS's text as moto raises it and as quoted
// from the aws CLI). The one stored fifth version is the winner's document.
func concFifthPolicyVersion(s *concScene) {
	arn := s.createPolicy("versioned", 0)
	for v := 1; v <= 3; v++ {
		_, err := s.root[0].CreatePolicyVersion(s.ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(concDoc(v))})
		s.must(err, "CreatePolicyVersion setup")
	}
	const limit = "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version."
	versions := make([]string, concParallel)
	errs := s.fire(concParallel, func(i int) error {
		out, err := s.iam(i).CreatePolicyVersion(s.ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(concDoc(100 + i)), SetAsDefault: true})
		if err == nil {
			versions[i] = aws.ToString(out.PolicyVersion.VersionId)
		}
		return err
	})
	n := s.tally("CreatePolicyVersion", errs, func(int) map[string]string {
		return map[string]string{"": "", "LimitExceeded": limit}
	})
	if n[""] != 1 {
		s.t.Fatalf("%d CreatePolicyVersion calls succeeded, want exactly 1", n[""])
	}
	winner := slices.IndexFunc(errs, func(err error) bool { return err == nil })
	if versions[winner] != "v5" {
		s.t.Errorf("the fifth version is %s, want v5", versions[winner])
	}
	for node, c := range s.root {
		list, err := c.ListPolicyVersions(s.ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
		s.must(err, "ListPolicyVersions")
		var ids []string
		for _, v := range list.Versions {
			ids = append(ids, aws.ToString(v.VersionId))
			if v.IsDefaultVersion != (aws.ToString(v.VersionId) == "v5") {
				s.t.Errorf("node %d: %s IsDefaultVersion = %t", node, aws.ToString(v.VersionId), v.IsDefaultVersion)
			}
		}
		sort.Strings(ids)
		if !slices.Equal(ids, []string{"v1", "v2", "v3", "v4", "v5"}) {
			s.t.Errorf("node %d ListPolicyVersions = %q, want v1..v5", node, ids)
		}
		v, err := c.GetPolicyVersion(s.ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v5")})
		s.must(err, "GetPolicyVersion v5")
		doc, err := url.QueryUnescape(aws.ToString(v.PolicyVersion.Document))
		s.must(err, "decode document")
		if doc != concDoc(100+winner) {
			s.t.Errorf("node %d: v5 holds %s, want the winner's %s", node, doc, concDoc(100+winner))
		}
		p, err := c.GetPolicy(s.ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		s.must(err, "GetPolicy")
		if aws.ToString(p.Policy.DefaultVersionId) != "v5" {
			s.t.Errorf("node %d: default version %s, want v5", node, aws.ToString(p.Policy.DefaultVersionId))
		}
	}
	// The version limit still holds after the race.
	_, err := s.root[1].CreatePolicyVersion(s.ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(concDoc(999))})
	if !concIs(err, "LimitExceeded", limit) {
		s.t.Errorf("a sixth version after the race: %v", err)
	}
}

// CreateAccessKey racing for a user with no key: exactly two are made, the rest answer
// LimitExceeded "Cannot exceed quota for AccessKeysPerUser: 2" (AWS's text as the aws CLI
// prints it, quoted in many public write-ups); both keys are listed and sign requests on
// either node.
func concThirdAccessKey(s *concScene) {
	s.createUser("keyholder")
	type made struct{ id, secret string }
	keys := make([]made, concParallel)
	errs := s.fire(concParallel, func(i int) error {
		out, err := s.iam(i).CreateAccessKey(s.ctx, &iam.CreateAccessKeyInput{UserName: aws.String("keyholder")})
		if err == nil {
			keys[i] = made{aws.ToString(out.AccessKey.AccessKeyId), aws.ToString(out.AccessKey.SecretAccessKey)}
		}
		return err
	})
	n := s.tally("CreateAccessKey", errs, func(int) map[string]string {
		return map[string]string{"": "", "LimitExceeded": "Cannot exceed quota for AccessKeysPerUser: 2"}
	})
	if n[""] != 2 {
		s.t.Fatalf("%d CreateAccessKey calls succeeded, want exactly 2", n[""])
	}
	var want []string
	for i, k := range keys {
		if errs[i] == nil {
			want = append(want, k.id)
		}
	}
	sort.Strings(want)
	userARN := "arn:aws:iam::" + s.envs[0].Account + ":user/keyholder"
	for node, c := range s.root {
		list, err := c.ListAccessKeys(s.ctx, &iam.ListAccessKeysInput{UserName: aws.String("keyholder")})
		s.must(err, "ListAccessKeys")
		var got []string
		for _, k := range list.AccessKeyMetadata {
			got = append(got, aws.ToString(k.AccessKeyId))
		}
		sort.Strings(got)
		if !slices.Equal(got, want) {
			s.t.Errorf("node %d ListAccessKeys = %q, want the two made %q", node, got, want)
		}
		for i, k := range keys {
			if errs[i] != nil {
				continue
			}
			_, st := s.envs[node].clients(k.id, k.secret, "")
			id, err := st.GetCallerIdentity(s.ctx, nil)
			if err != nil || aws.ToString(id.Arn) != userARN {
				s.t.Errorf("node %d: key %s signs as %+v, %v; want %s", node, k.id, id, err, userARN)
			}
		}
	}
}

// aliases lists the account's aliases through c.
func (s *concScene) aliases(c *iam.Client) []string {
	s.t.Helper()
	out, err := c.ListAccountAliases(s.ctx, &iam.ListAccountAliasesInput{})
	s.must(err, "ListAccountAliases")
	return out.AccountAliases
}

// concAliasTaken is AWS's answer to an alias already taken, by this account or another ("The
// account alias my-prod-account already exists.", quoted from AWS in aws-nuke issue 697).
func concAliasTaken(alias string) string { return "The account alias " + alias + " already exists." }

// CreateAccountAlias of one alias by one account on both nodes at once: one call creates it;
// every later one finds it taken, by this account, and answers EntityAlreadyExists, as a
// repeated call does (internal/iam/account_alias.go); ConcurrentModification, the handler's
// answer to an insert that loses a race, never appears since the writes are serialized.
func concSameAlias(s *concScene) {
	const alias = "conc-corp"
	errs := s.fire(concParallel, func(i int) error {
		_, err := s.iam(i).CreateAccountAlias(s.ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String(alias)})
		return err
	})
	n := s.tally("CreateAccountAlias", errs, func(int) map[string]string {
		return map[string]string{"": "", "EntityAlreadyExists": concAliasTaken(alias)}
	})
	if n[""] != 1 {
		s.t.Errorf("%d CreateAccountAlias calls succeeded, want exactly 1", n[""])
	}
	for node, c := range s.root {
		if got := s.aliases(c); !slices.Equal(got, []string{alias}) {
			s.t.Errorf("node %d aliases = %q, want [%s]", node, got, alias)
		}
	}
}

// CreateAccountAlias of different aliases at once: each replaces the one before ("the new alias
// overwrites the previous alias", IAM User Guide), so all succeed and the account ends with one
// of them; every alias it does not have is free again (another account can take it), so no
// replaced alias row is left behind.
func concDifferentAliases(s *concScene) {
	aliases := make([]string, concParallel)
	for i := range aliases {
		aliases[i] = fmt.Sprintf("conc-corp-%d", i)
	}
	errs := s.fire(concParallel, func(i int) error {
		_, err := s.iam(i).CreateAccountAlias(s.ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String(aliases[i])})
		return err
	})
	s.tally("CreateAccountAlias", errs, func(int) map[string]string { return map[string]string{"": ""} })
	final := s.aliases(s.root[0])
	if len(final) != 1 || !slices.Contains(aliases, final[0]) {
		s.t.Fatalf("aliases = %q, want one of %q", final, aliases)
	}
	if got := s.aliases(s.root[1]); !slices.Equal(got, final) {
		s.t.Errorf("node 1 aliases = %q, node 0 %q", got, final)
	}
	other, err := s.envs[0].app.CreateAccount(s.ctx, config.Credentials{})
	s.must(err, "CreateAccount")
	for i, a := range aliases {
		c := concClient(s.envs[i%2], other)
		_, err := c.CreateAccountAlias(s.ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String(a)})
		switch {
		case a == final[0] && !concIs(err, "EntityAlreadyExists", concAliasTaken(a)):
			s.t.Errorf("another account taking the first's alias %s: %v", a, err)
		case a != final[0] && err != nil:
			s.t.Errorf("another account taking the replaced alias %s: %v", a, err)
		}
	}
}

// CreateAccountAlias of one alias by two accounts, each through both nodes: exactly one
// account gets it; every other call answers EntityAlreadyExists.
func concAliasTwoAccounts(s *concScene) {
	const alias = "contested-corp"
	otherCreds, err := s.envs[0].app.CreateAccount(s.ctx, config.Credentials{})
	s.must(err, "CreateAccount")
	other := []*iam.Client{concClient(s.envs[0], otherCreds), concClient(s.envs[1], otherCreds)}
	accounts := [][]*iam.Client{s.root, other}
	errs := s.fire(concParallel, func(i int) error {
		// account i%2, node (i/2)%2: each account calls through both nodes
		_, err := accounts[i%2][(i/2)%2].CreateAccountAlias(s.ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String(alias)})
		return err
	})
	n := s.tally("CreateAccountAlias", errs, func(int) map[string]string {
		return map[string]string{"": "", "EntityAlreadyExists": concAliasTaken(alias)}
	})
	if n[""] != 1 {
		s.t.Fatalf("%d CreateAccountAlias calls succeeded, want exactly 1", n[""])
	}
	winner := slices.IndexFunc(errs, func(err error) bool { return err == nil }) % 2
	for a, clients := range accounts {
		want := []string{}
		if a == winner {
			want = []string{alias}
		}
		for node, c := range clients {
			if got := s.aliases(c); !slices.Equal(got, want) {
				s.t.Errorf("account %d node %d aliases = %q, want %q", a, node, got, want)
			}
		}
	}
}

// CreateLoginProfile racing for one user: exactly one password is set; the others answer
// EntityAlreadyExists "Login Profile for user X already exists." (AWS's text as moto raises it;
// test/e2e/passwords_test.go checks it sequentially).
func concLoginProfile(s *concScene) {
	s.createUser("console")
	errs := s.fire(concParallel, func(i int) error {
		_, err := s.iam(i).CreateLoginProfile(s.ctx, &iam.CreateLoginProfileInput{UserName: aws.String("console"), Password: aws.String(fmt.Sprintf("racing-pass-%02d!", i))})
		return err
	})
	n := s.tally("CreateLoginProfile", errs, func(int) map[string]string {
		return map[string]string{"": "", "EntityAlreadyExists": "Login Profile for user console already exists."}
	})
	if n[""] != 1 {
		s.t.Fatalf("%d CreateLoginProfile calls succeeded, want exactly 1", n[""])
	}
	for node, c := range s.root {
		_, err := c.GetLoginProfile(s.ctx, &iam.GetLoginProfileInput{UserName: aws.String("console")})
		s.must(err, fmt.Sprintf("node %d GetLoginProfile", node))
	}
}

// AddUserToGroup of several users racing DeleteGroup: the delete wins (the adds answer
// NoSuchEntity "The group with name X cannot be found.") or an add does (DeleteConflict
// "Cannot delete entity, must remove users from group first.", AWS's text as moto raises it).
func concJoinWhileDeletingGroup(s *concScene) {
	users := make([]string, concParallel/2)
	for i := range users {
		users[i] = fmt.Sprintf("member-%d", i)
		s.createUser(users[i])
	}
	wins := 0
	for r := range concRounds {
		group := fmt.Sprintf("club-%d", r)
		_, err := s.root[0].CreateGroup(s.ctx, &iam.CreateGroupInput{GroupName: aws.String(group)})
		s.must(err, "CreateGroup")
		errs := s.fire(concParallel, func(i int) error {
			c := s.iam(i / 2)
			if i%2 == 0 {
				_, err := c.AddUserToGroup(s.ctx, &iam.AddUserToGroupInput{GroupName: aws.String(group), UserName: aws.String(users[i/2])})
				return err
			}
			_, err := c.DeleteGroup(s.ctx, &iam.DeleteGroupInput{GroupName: aws.String(group)})
			return err
		})
		gone := "The group with name " + group + " cannot be found."
		deleted := s.joinOrDelete("AddUserToGroup/DeleteGroup "+group, errs, gone, gone, "Cannot delete entity, must remove users from group first.")
		for node, c := range s.root {
			g, err := c.GetGroup(s.ctx, &iam.GetGroupInput{GroupName: aws.String(group)})
			switch {
			case deleted && !concIs(err, "NoSuchEntity", gone):
				s.t.Errorf("node %d: %s was deleted, yet GetGroup = %+v, %v", node, group, g, err)
			case !deleted && (err != nil || len(g.Users) != len(users)):
				s.t.Errorf("node %d: %s was not deleted; GetGroup = %+v, %v; want %d members", node, group, g, err, len(users))
			}
		}
		if deleted {
			wins++
		}
	}
	s.t.Logf("the delete won %d of %d rounds", wins, concRounds)
}

// AddUserToGroup of one user into 12 groups at once: a user is in at most 10 groups (IAM User
// Guide, "IAM object quotas"), so exactly 10 adds succeed and 2 answer LimitExceeded. The text
// "Cannot exceed quota for GroupsPerUser: 10" follows AWS's AccessKeysPerUser and
// PoliciesPerUser texts; no AWS recording of this one was found.
func concGroupsPerUser(s *concScene) {
	s.createUser("joiner")
	groups := make([]string, concParallel)
	for i := range groups {
		groups[i] = fmt.Sprintf("g%02d", i)
		_, err := s.root[0].CreateGroup(s.ctx, &iam.CreateGroupInput{GroupName: aws.String(groups[i])})
		s.must(err, "CreateGroup")
	}
	errs := s.fire(concParallel, func(i int) error {
		_, err := s.iam(i).AddUserToGroup(s.ctx, &iam.AddUserToGroupInput{GroupName: aws.String(groups[i]), UserName: aws.String("joiner")})
		return err
	})
	n := s.tally("AddUserToGroup", errs, func(int) map[string]string {
		return map[string]string{"": "", "LimitExceeded": "Cannot exceed quota for GroupsPerUser: 10"}
	})
	if n[""] != 10 {
		s.t.Fatalf("%d AddUserToGroup calls succeeded, want exactly 10", n[""])
	}
	var want []string
	for i, g := range groups {
		if errs[i] == nil {
			want = append(want, g)
		}
	}
	for node, c := range s.root {
		out, err := c.ListGroupsForUser(s.ctx, &iam.ListGroupsForUserInput{UserName: aws.String("joiner")})
		s.must(err, "ListGroupsForUser")
		var got []string
		for _, g := range out.Groups {
			got = append(got, aws.ToString(g.GroupName))
		}
		sort.Strings(got)
		if !slices.Equal(got, want) {
			s.t.Errorf("node %d ListGroupsForUser = %q, want the groups joined %q", node, got, want)
		}
	}
}

// AttachUserPolicy of 12 policies to one user at once: at most 10 managed policies attach to
// a user, so exactly 10 succeed and 2 answer LimitExceeded "Cannot exceed quota for
// PoliciesPerUser: 10" (AWS's text as the aws CLI prints it, quoted in many public write-ups).
func concPoliciesPerUser(s *concScene) {
	s.createUser("collector")
	arns := make([]string, concParallel)
	for i := range arns {
		arns[i] = s.createPolicy(fmt.Sprintf("p%02d", i), i)
	}
	errs := s.fire(concParallel, func(i int) error {
		_, err := s.iam(i).AttachUserPolicy(s.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("collector"), PolicyArn: aws.String(arns[i])})
		return err
	})
	n := s.tally("AttachUserPolicy", errs, func(int) map[string]string {
		return map[string]string{"": "", "LimitExceeded": "Cannot exceed quota for PoliciesPerUser: 10"}
	})
	if n[""] != 10 {
		s.t.Fatalf("%d AttachUserPolicy calls succeeded, want exactly 10", n[""])
	}
	var want []string
	for i, a := range arns {
		if errs[i] == nil {
			want = append(want, a)
		}
	}
	for node, c := range s.root {
		got, err := concUsers.attached(s.ctx, c, "collector")
		s.must(err, "ListAttachedUserPolicies")
		var arnsGot []string
		for _, p := range got {
			arnsGot = append(arnsGot, aws.ToString(p.PolicyArn))
		}
		sort.Strings(arnsGot)
		if !slices.Equal(arnsGot, want) {
			s.t.Errorf("node %d attached = %q, want %q", node, arnsGot, want)
		}
	}
}

// concNoDangling checks, on every node, that the account's attachments and memberships point
// only at entities that exist and that each policy's AttachmentCount is what
// ListEntitiesForPolicy and GetAccountAuthorizationDetails show.
func concNoDangling(s *concScene) {
	s.t.Helper()
	for node, c := range s.root {
		var users []types.UserDetail
		var groups []types.GroupDetail
		var roles []types.RoleDetail
		var policies []types.ManagedPolicyDetail
		pages := iam.NewGetAccountAuthorizationDetailsPaginator(c, &iam.GetAccountAuthorizationDetailsInput{Filter: []types.EntityType{
			types.EntityTypeUser, types.EntityTypeGroup, types.EntityTypeRole, types.EntityTypeLocalManagedPolicy,
		}})
		for pages.HasMorePages() {
			out, err := pages.NextPage(s.ctx)
			s.must(err, "GetAccountAuthorizationDetails")
			users = append(users, out.UserDetailList...)
			groups = append(groups, out.GroupDetailList...)
			roles = append(roles, out.RoleDetailList...)
			policies = append(policies, out.Policies...)
		}
		// attachedTo maps a policy ARN to the "kind:name" of the entities the details show it on.
		attachedTo := map[string][]string{}
		groupNames := map[string]bool{}
		userNames := map[string]bool{}
		for _, u := range users {
			userNames[aws.ToString(u.UserName)] = true
			for _, p := range u.AttachedManagedPolicies {
				attachedTo[aws.ToString(p.PolicyArn)] = append(attachedTo[aws.ToString(p.PolicyArn)], "user:"+aws.ToString(u.UserName))
			}
		}
		for _, g := range groups {
			groupNames[aws.ToString(g.GroupName)] = true
			for _, p := range g.AttachedManagedPolicies {
				attachedTo[aws.ToString(p.PolicyArn)] = append(attachedTo[aws.ToString(p.PolicyArn)], "group:"+aws.ToString(g.GroupName))
			}
		}
		for _, r := range roles {
			for _, p := range r.AttachedManagedPolicies {
				attachedTo[aws.ToString(p.PolicyArn)] = append(attachedTo[aws.ToString(p.PolicyArn)], "role:"+aws.ToString(r.RoleName))
			}
		}
		for _, u := range users {
			for _, g := range u.GroupList {
				if !groupNames[g] {
					s.t.Errorf("node %d: user %s is in group %s, which does not exist", node, aws.ToString(u.UserName), g)
				}
			}
		}
		for g := range groupNames {
			out, err := c.GetGroup(s.ctx, &iam.GetGroupInput{GroupName: aws.String(g)})
			s.must(err, "GetGroup "+g)
			for _, u := range out.Users {
				if !userNames[aws.ToString(u.UserName)] {
					s.t.Errorf("node %d: group %s lists member %s, who does not exist", node, g, aws.ToString(u.UserName))
				}
			}
		}
		known := map[string]bool{}
		for _, p := range policies {
			arn := aws.ToString(p.Arn)
			known[arn] = true
			ents, err := c.ListEntitiesForPolicy(s.ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn)})
			s.must(err, "ListEntitiesForPolicy "+arn)
			var listed []string
			for _, u := range ents.PolicyUsers {
				listed = append(listed, "user:"+aws.ToString(u.UserName))
			}
			for _, g := range ents.PolicyGroups {
				listed = append(listed, "group:"+aws.ToString(g.GroupName))
			}
			for _, r := range ents.PolicyRoles {
				listed = append(listed, "role:"+aws.ToString(r.RoleName))
			}
			sort.Strings(listed)
			details := slices.Sorted(slices.Values(attachedTo[arn]))
			if !slices.Equal(listed, details) || int(aws.ToInt32(p.AttachmentCount)) != len(listed) {
				s.t.Errorf("node %d: %s has AttachmentCount %d, ListEntitiesForPolicy %q, the details show it on %q",
					node, arn, aws.ToInt32(p.AttachmentCount), listed, details)
			}
		}
		for arn, on := range attachedTo {
			if !known[arn] {
				s.t.Errorf("node %d: %q have %s attached, which is not among the account's policies", node, on, arn)
			}
		}
	}
}
