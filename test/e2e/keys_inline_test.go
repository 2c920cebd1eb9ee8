package e2e

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// gkInlineOwner abstracts the inline policy operations of users, groups and roles for one table.
type gkInlineOwner struct {
	kind    string // as AWS's messages name it
	maxSize int    // aggregate quota of the entity's inline policies
	create  func(ctx context.Context, c *iam.Client, name string) error
	put     func(ctx context.Context, c *iam.Client, owner, policy, doc string) error
	get     func(ctx context.Context, c *iam.Client, owner, policy string) (ownerOut, policyOut, doc *string, err error)
	del     func(ctx context.Context, c *iam.Client, owner, policy string) error
	list    func(ctx context.Context, c *iam.Client, owner string, marker *string, max *int32) (names []string, truncated bool, next *string, err error)
	remove  func(ctx context.Context, c *iam.Client, owner string) error // deletes the entity itself
}

func gkInlineOwners() []gkInlineOwner {
	return []gkInlineOwner{
		{
			kind: "user", maxSize: 2048,
			create: func(ctx context.Context, c *iam.Client, name string) error {
				_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
				return err
			},
			put: func(ctx context.Context, c *iam.Client, owner, policy, doc string) error {
				_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(owner), PolicyName: aws.String(policy), PolicyDocument: aws.String(doc)})
				return err
			},
			get: func(ctx context.Context, c *iam.Client, owner, policy string) (*string, *string, *string, error) {
				out, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(owner), PolicyName: aws.String(policy)})
				if err != nil {
					return nil, nil, nil, err
				}
				return out.UserName, out.PolicyName, out.PolicyDocument, nil
			},
			del: func(ctx context.Context, c *iam.Client, owner, policy string) error {
				_, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(owner), PolicyName: aws.String(policy)})
				return err
			},
			list: func(ctx context.Context, c *iam.Client, owner string, marker *string, max *int32) ([]string, bool, *string, error) {
				out, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(owner), Marker: marker, MaxItems: max})
				if err != nil {
					return nil, false, nil, err
				}
				return out.PolicyNames, out.IsTruncated, out.Marker, nil
			},
			remove: func(ctx context.Context, c *iam.Client, owner string) error {
				_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(owner)})
				return err
			},
		},
		{
			kind: "group", maxSize: 5120,
			create: func(ctx context.Context, c *iam.Client, name string) error {
				_, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(name)})
				return err
			},
			put: func(ctx context.Context, c *iam.Client, owner, policy, doc string) error {
				_, err := c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String(owner), PolicyName: aws.String(policy), PolicyDocument: aws.String(doc)})
				return err
			},
			get: func(ctx context.Context, c *iam.Client, owner, policy string) (*string, *string, *string, error) {
				out, err := c.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String(owner), PolicyName: aws.String(policy)})
				if err != nil {
					return nil, nil, nil, err
				}
				return out.GroupName, out.PolicyName, out.PolicyDocument, nil
			},
			del: func(ctx context.Context, c *iam.Client, owner, policy string) error {
				_, err := c.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String(owner), PolicyName: aws.String(policy)})
				return err
			},
			list: func(ctx context.Context, c *iam.Client, owner string, marker *string, max *int32) ([]string, bool, *string, error) {
				out, err := c.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String(owner), Marker: marker, MaxItems: max})
				if err != nil {
					return nil, false, nil, err
				}
				return out.PolicyNames, out.IsTruncated, out.Marker, nil
			},
			remove: func(ctx context.Context, c *iam.Client, owner string) error {
				_, err := c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String(owner)})
				return err
			},
		},
		{
			kind: "role", maxSize: 10240,
			create: func(ctx context.Context, c *iam.Client, name string) error {
				_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(gkTrust("ec2.amazonaws.com", 0))})
				return err
			},
			put: func(ctx context.Context, c *iam.Client, owner, policy, doc string) error {
				_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(owner), PolicyName: aws.String(policy), PolicyDocument: aws.String(doc)})
				return err
			},
			get: func(ctx context.Context, c *iam.Client, owner, policy string) (*string, *string, *string, error) {
				out, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(owner), PolicyName: aws.String(policy)})
				if err != nil {
					return nil, nil, nil, err
				}
				return out.RoleName, out.PolicyName, out.PolicyDocument, nil
			},
			del: func(ctx context.Context, c *iam.Client, owner, policy string) error {
				_, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(owner), PolicyName: aws.String(policy)})
				return err
			},
			list: func(ctx context.Context, c *iam.Client, owner string, marker *string, max *int32) ([]string, bool, *string, error) {
				out, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(owner), Marker: marker, MaxItems: max})
				if err != nil {
					return nil, false, nil, err
				}
				return out.PolicyNames, out.IsTruncated, out.Marker, nil
			},
			remove: func(ctx context.Context, c *iam.Client, owner string) error {
				_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(owner)})
				return err
			},
		},
	}
}

// gkInlineState is every inline policy of an owner with its document.
func gkInlineState(t *testing.T, c *iam.Client, o gkInlineOwner, owner string) map[string]string {
	t.Helper()
	ctx := context.Background()
	names, _, _, err := o.list(ctx, c, owner, nil, aws.Int32(1000))
	gkNoErr(t, err)
	state := map[string]string{}
	for _, n := range names {
		_, _, doc, err := o.get(ctx, c, owner, n)
		gkNoErr(t, err)
		state[n] = gkDecode(t, doc)
	}
	return state
}

func TestInlinePolicies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	for _, o := range gkInlineOwners() {
		t.Run("owner="+o.kind, func(t *testing.T) {
			owner := "Inline" + strings.ToUpper(o.kind[:1]) + o.kind[1:]
			gkNoErr(t, o.create(ctx, c, owner))

			names, truncated, _, err := o.list(ctx, c, owner, nil, nil)
			gkNoErr(t, err)
			if names == nil || len(names) != 0 || truncated {
				t.Errorf("policies of a new %s = %#v", o.kind, names)
			}

			// A document with white space and characters that URL encoding must escape.
			doc := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/a b+c&d=e%f"}]}`
			gkNoErr(t, o.put(ctx, c, owner, "ReadOnly", doc))
			gotOwner, gotName, gotDoc, err := o.get(ctx, c, strings.ToLower(owner), "readonly")
			gkNoErr(t, err)
			if aws.ToString(gotOwner) != owner || aws.ToString(gotName) != "ReadOnly" {
				t.Errorf("Get%sPolicy names = %s/%s, want %s/ReadOnly", o.kind, aws.ToString(gotOwner), aws.ToString(gotName), owner)
			}
			if raw := aws.ToString(gotDoc); strings.ContainsAny(raw, ` "{`) {
				t.Errorf("document is not URL-encoded on the wire: %s", raw)
			}
			if got := gkDecode(t, gotDoc); got != doc {
				t.Errorf("document = %s, want %s", got, doc)
			}

			// Put over a name that differs only in case replaces the policy.
			doc2 := gkDoc(gkDocMin + 10)
			gkNoErr(t, o.put(ctx, c, owner, "READONLY", doc2))
			if state := gkInlineState(t, c, o, owner); !reflect.DeepEqual(state, map[string]string{"READONLY": doc2}) {
				t.Errorf("after overwrite: %v", state)
			}

			for _, n := range []string{"b-policy", "a-policy"} {
				gkNoErr(t, o.put(ctx, c, owner, n, gkDoc(gkDocMin)))
			}
			p1, more, marker, err := o.list(ctx, c, owner, nil, aws.Int32(2))
			gkNoErr(t, err)
			p2, more2, marker2, err := o.list(ctx, c, owner, marker, aws.Int32(2))
			gkNoErr(t, err)
			if !more || marker == nil || more2 || marker2 != nil {
				t.Errorf("pagination: truncated %v/%v markers %v/%v", more, more2, marker, marker2)
			}
			if all := append(p1, p2...); !reflect.DeepEqual(all, []string{"a-policy", "b-policy", "READONLY"}) {
				t.Errorf("policy names = %v", all)
			}

			before := gkInlineState(t, c, o, owner)
			cases := []struct {
				name      string
				call      func() error
				code, msg string
			}{
				{"get missing policy", func() error { _, _, _, err := o.get(ctx, c, owner, "nope"); return err },
					"NoSuchEntity", "The " + o.kind + " policy with name nope cannot be found."},
				{"delete missing policy", func() error { return o.del(ctx, c, owner, "nope") },
					"NoSuchEntity", "The " + o.kind + " policy with name nope cannot be found."},
				{"put for missing owner", func() error { return o.put(ctx, c, "ghost", "p", gkDoc(gkDocMin)) },
					"NoSuchEntity", "The " + o.kind + " with name ghost cannot be found."},
				{"get for missing owner", func() error { _, _, _, err := o.get(ctx, c, "ghost", "p"); return err },
					"NoSuchEntity", "The " + o.kind + " with name ghost cannot be found."},
				{"delete for missing owner", func() error { return o.del(ctx, c, "ghost", "p") },
					"NoSuchEntity", "The " + o.kind + " with name ghost cannot be found."},
				{"list for missing owner", func() error { _, _, _, err := o.list(ctx, c, "ghost", nil, nil); return err },
					"NoSuchEntity", "The " + o.kind + " with name ghost cannot be found."},
				{"malformed document", func() error { return o.put(ctx, c, owner, "a-policy", `{"Statement": `) },
					"MalformedPolicyDocument", ""},
				{"invalid policy name", func() error { return o.put(ctx, c, owner, "bad name", gkDoc(gkDocMin)) },
					"ValidationError", ""},
				{"aggregate size exceeded", func() error {
					// The others keep their size; this one brings the total one over the quota.
					have := 0
					for _, d := range before {
						have += len(strings.Join(strings.Fields(d), ""))
					}
					return o.put(ctx, c, owner, "extra", gkDoc(o.maxSize-have+1))
				}, "LimitExceeded", fmt.Sprintf("Maximum policy size of %d bytes exceeded for %s %s", o.maxSize, o.kind, owner)},
				{"replacement exceeds", func() error {
					have := 0
					for n, d := range before {
						if n != "a-policy" {
							have += len(strings.Join(strings.Fields(d), ""))
						}
					}
					return o.put(ctx, c, owner, "A-POLICY", gkDoc(o.maxSize-have+1))
				}, "LimitExceeded", fmt.Sprintf("Maximum policy size of %d bytes exceeded for %s %s", o.maxSize, o.kind, owner)},
				{"entity still has policies", func() error { return o.remove(ctx, c, owner) },
					"DeleteConflict", "Cannot delete entity, must delete policies first."},
			}
			for _, tc := range cases {
				t.Run("error="+tc.name, func(t *testing.T) {
					gkErr(t, tc.call(), tc.code, tc.msg)
					if after := gkInlineState(t, c, o, owner); !reflect.DeepEqual(after, before) {
						t.Errorf("policies changed:\n before %v\n after  %v", before, after)
					}
				})
			}

			t.Run("case=exactly at the quota", func(t *testing.T) {
				// Replacing a-policy with a document that fills the quota exactly is accepted: the
				// replaced document no longer counts.
				have := 0
				for n, d := range before {
					if n != "a-policy" {
						have += len(strings.Join(strings.Fields(d), ""))
					}
				}
				gkNoErr(t, o.put(ctx, c, owner, "a-policy", gkDoc(o.maxSize-have)))
				gkErr(t, o.put(ctx, c, owner, "tiny", gkDoc(gkDocMin)), "LimitExceeded", "")
			})

			for _, n := range []string{"a-policy", "B-POLICY", "readonly"} {
				gkNoErr(t, o.del(ctx, c, owner, n))
			}
			if state := gkInlineState(t, c, o, owner); len(state) != 0 {
				t.Errorf("after deleting all: %v", state)
			}
			gkNoErr(t, o.remove(ctx, c, owner))
		})
	}

	t.Run("case=policies are per entity", func(t *testing.T) {
		for _, u := range []string{"u1", "u2"} {
			gkR(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)})).must(t)
		}
		gkR(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u1"), PolicyName: aws.String("p"), PolicyDocument: aws.String(gkDoc(1500))})).must(t)
		// u2 has its own quota and its own namespace of policy names.
		gkR(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u2"), PolicyName: aws.String("p"), PolicyDocument: aws.String(gkDoc(1500))})).must(t)
		l := gkR(c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("u1")})).must(t)
		if !reflect.DeepEqual(l.PolicyNames, []string{"p"}) {
			t.Errorf("u1 policies = %v", l.PolicyNames)
		}
		// A renamed user keeps its inline policies.
		gkR(c.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("u1"), NewUserName: aws.String("u1-renamed")})).must(t)
		got := gkR(c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("u1-renamed"), PolicyName: aws.String("p")})).must(t)
		if aws.ToString(got.UserName) != "u1-renamed" || gkDecode(t, got.PolicyDocument) != gkDoc(1500) {
			t.Errorf("after rename: %s %s", aws.ToString(got.UserName), gkDecode(t, got.PolicyDocument))
		}
	})
}

// gkKeyIDs lists the access key ids and statuses of a user ("" for the caller).
func gkKeyIDs(t *testing.T, c *iam.Client, user string) map[string]types.StatusType {
	t.Helper()
	in := &iam.ListAccessKeysInput{}
	if user != "" {
		in.UserName = aws.String(user)
	}
	out := gkR(c.ListAccessKeys(context.Background(), in)).must(t)
	keys := map[string]types.StatusType{}
	for _, k := range out.AccessKeyMetadata {
		keys[*k.AccessKeyId] = k.Status
	}
	return keys
}

func TestAccessKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	gkR(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")})).must(t)
	gkR(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")})).must(t)

	empty := gkR(c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})).must(t)
	if empty.AccessKeyMetadata == nil || len(empty.AccessKeyMetadata) != 0 || empty.IsTruncated {
		t.Errorf("keys of a new user = %#v", empty.AccessKeyMetadata)
	}

	k1 := gkR(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ALICE")})).must(t).AccessKey
	t.Run("case=create output", func(t *testing.T) {
		if id := aws.ToString(k1.AccessKeyId); !strings.HasPrefix(id, "AKIA") || len(id) != 20 {
			t.Errorf("AccessKeyId = %s", id)
		}
		if len(aws.ToString(k1.SecretAccessKey)) != 40 || k1.Status != types.StatusTypeActive || aws.ToString(k1.UserName) != "alice" || k1.CreateDate == nil {
			t.Errorf("access key = %+v", k1)
		}
	})

	t.Run("case=the key signs requests", func(t *testing.T) {
		_, s := e.clients(*k1.AccessKeyId, *k1.SecretAccessKey, "")
		id, err := s.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		gkImplemented(t, err)
		gkNoErr(t, err)
		if want := "arn:aws:iam::" + e.Account + ":user/alice"; aws.ToString(id.Arn) != want {
			t.Errorf("caller = %s, want %s", aws.ToString(id.Arn), want)
		}
		used := gkR(c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k1.AccessKeyId})).must(t)
		if aws.ToString(used.UserName) != "alice" || used.AccessKeyLastUsed == nil || used.AccessKeyLastUsed.LastUsedDate == nil ||
			aws.ToString(used.AccessKeyLastUsed.ServiceName) != "sts" || aws.ToString(used.AccessKeyLastUsed.Region) != "us-east-1" {
			t.Errorf("GetAccessKeyLastUsed after use = %s %+v", aws.ToString(used.UserName), used.AccessKeyLastUsed)
		}
	})

	k2 := gkR(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})).must(t).AccessKey
	t.Run("case=never used", func(t *testing.T) {
		used := gkR(c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k2.AccessKeyId})).must(t)
		u := used.AccessKeyLastUsed
		if aws.ToString(used.UserName) != "alice" || u == nil || u.LastUsedDate != nil || aws.ToString(u.ServiceName) != "N/A" || aws.ToString(u.Region) != "N/A" {
			t.Errorf("GetAccessKeyLastUsed of an unused key = %s %+v", aws.ToString(used.UserName), u)
		}
	})

	t.Run("case=list", func(t *testing.T) {
		p1 := gkR(c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice"), MaxItems: aws.Int32(1)})).must(t)
		p2 := gkR(c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice"), MaxItems: aws.Int32(1), Marker: p1.Marker})).must(t)
		if !p1.IsTruncated || p2.IsTruncated || len(p1.AccessKeyMetadata) != 1 || len(p2.AccessKeyMetadata) != 1 {
			t.Fatalf("pages: %+v / %+v", p1, p2)
		}
		got := map[string]bool{*p1.AccessKeyMetadata[0].AccessKeyId: true, *p2.AccessKeyMetadata[0].AccessKeyId: true}
		if !got[*k1.AccessKeyId] || !got[*k2.AccessKeyId] {
			t.Errorf("listed %v, want %s and %s", got, *k1.AccessKeyId, *k2.AccessKeyId)
		}
		for _, m := range append(p1.AccessKeyMetadata, p2.AccessKeyMetadata...) {
			if aws.ToString(m.UserName) != "alice" || m.Status != types.StatusTypeActive || m.CreateDate == nil {
				t.Errorf("metadata = %+v", m)
			}
		}
		if n := len(gkKeyIDs(t, c, "bob")); n != 0 {
			t.Errorf("bob has %d keys", n)
		}
	})

	t.Run("case=errors change nothing", func(t *testing.T) {
		before := gkKeyIDs(t, c, "alice")
		bobKey := gkR(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})).must(t).AccessKey
		bobBefore := gkKeyIDs(t, c, "bob")
		missing := "AKIAAAAAAAAAAAAAAAAA"
		cases := []struct {
			name      string
			call      func() error
			code, msg string
		}{
			{"third key", func() error {
				_, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
				return err
			}, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2"},
			{"key for missing user", func() error {
				_, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ghost")})
				return err
			}, "NoSuchEntity", "The user with name ghost cannot be found."},
			{"list for missing user", func() error {
				_, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("ghost")})
				return err
			}, "NoSuchEntity", "The user with name ghost cannot be found."},
			{"update missing key", func() error {
				_, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(missing), Status: types.StatusTypeInactive})
				return err
			}, "NoSuchEntity", "The Access Key with id " + missing + " cannot be found."},
			{"update another user's key", func() error {
				_, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: bobKey.AccessKeyId, Status: types.StatusTypeInactive})
				return err
			}, "NoSuchEntity", "The Access Key with id " + *bobKey.AccessKeyId + " cannot be found."},
			{"update a user's key as the root's", func() error {
				_, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: k1.AccessKeyId, Status: types.StatusTypeInactive})
				return err
			}, "NoSuchEntity", "The Access Key with id " + *k1.AccessKeyId + " cannot be found."},
			{"update to Expired", func() error {
				_, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k1.AccessKeyId, Status: types.StatusTypeExpired})
				return err
			}, "ValidationError", ""},
			{"update to unknown status", func() error {
				_, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k1.AccessKeyId, Status: "Disabled"})
				return err
			}, "ValidationError", ""},
			{"delete missing key", func() error {
				_, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(missing)})
				return err
			}, "NoSuchEntity", "The Access Key with id " + missing + " cannot be found."},
			{"delete another user's key", func() error {
				_, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: bobKey.AccessKeyId})
				return err
			}, "NoSuchEntity", "The Access Key with id " + *bobKey.AccessKeyId + " cannot be found."},
			{"delete for missing user", func() error {
				_, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("ghost"), AccessKeyId: k1.AccessKeyId})
				return err
			}, "NoSuchEntity", "The user with name ghost cannot be found."},
			{"last used of missing key", func() error {
				_, err := c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(missing)})
				return err
			}, "NoSuchEntity", "The Access Key with id " + missing + " cannot be found."},
			{"key id too short", func() error {
				_, err := c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIA")})
				return err
			}, "ValidationError", ""},
			{"user with keys", func() error {
				_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
				return err
			}, "DeleteConflict", "Cannot delete entity, must delete access keys first."},
		}
		for _, tc := range cases {
			t.Run("error="+tc.name, func(t *testing.T) {
				gkErr(t, tc.call(), tc.code, tc.msg)
				if after := gkKeyIDs(t, c, "alice"); !reflect.DeepEqual(after, before) {
					t.Errorf("alice's keys changed: %v -> %v", before, after)
				}
				if after := gkKeyIDs(t, c, "bob"); !reflect.DeepEqual(after, bobBefore) {
					t.Errorf("bob's keys changed: %v -> %v", bobBefore, after)
				}
			})
		}
	})

	t.Run("case=deactivate and delete", func(t *testing.T) {
		gkR(c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k1.AccessKeyId, Status: types.StatusTypeInactive})).must(t)
		if got := gkKeyIDs(t, c, "alice"); got[*k1.AccessKeyId] != types.StatusTypeInactive || got[*k2.AccessKeyId] != types.StatusTypeActive {
			t.Errorf("statuses = %v", got)
		}
		// An inactive key no longer authenticates.
		_, s := e.clients(*k1.AccessKeyId, *k1.SecretAccessKey, "")
		_, err := s.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		gkErr(t, err, "InvalidClientTokenId", "")
		// Inactive keys still count against the quota.
		_, err = c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
		gkErr(t, err, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")

		gkR(c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k1.AccessKeyId, Status: types.StatusTypeActive})).must(t)
		_, err = s.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		gkImplemented(t, err)
		gkNoErr(t, err)

		gkR(c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k1.AccessKeyId})).must(t)
		if got := gkKeyIDs(t, c, "alice"); len(got) != 1 || got[*k2.AccessKeyId] != types.StatusTypeActive {
			t.Errorf("after delete: %v", got)
		}
		_, err = s.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		gkErr(t, err, "InvalidClientTokenId", "")
		_, err = c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k1.AccessKeyId})
		gkErr(t, err, "NoSuchEntity", "The Access Key with id "+*k1.AccessKeyId+" cannot be found.")
		// The freed slot can be used again.
		gkR(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})).must(t)
	})

	t.Run("case=root keys", func(t *testing.T) {
		// Without UserName a root caller manages the root user's keys; they carry no user name.
		root := gkKeyIDs(t, c, "")
		if len(root) != 1 || root[e.Root.AccessKeyID] != types.StatusTypeActive {
			t.Fatalf("root keys = %v, want the bootstrap key %s", root, e.Root.AccessKeyID)
		}
		list := gkR(c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})).must(t)
		if list.AccessKeyMetadata[0].UserName != nil {
			t.Errorf("root key has UserName %s", aws.ToString(list.AccessKeyMetadata[0].UserName))
		}
		k := gkR(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})).must(t).AccessKey
		if k.UserName != nil || !strings.HasPrefix(aws.ToString(k.AccessKeyId), "AKIA") {
			t.Errorf("root key = %+v", k)
		}
		before := gkKeyIDs(t, c, "")
		_, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
		gkErr(t, err, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")
		if after := gkKeyIDs(t, c, ""); !reflect.DeepEqual(after, before) {
			t.Errorf("root keys changed: %v -> %v", before, after)
		}
		// The new root key works and reports its use without a user name.
		rootIAM, _ := e.clients(*k.AccessKeyId, *k.SecretAccessKey, "")
		used := gkR(rootIAM.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(e.Root.AccessKeyID)})).must(t)
		if used.UserName != nil || used.AccessKeyLastUsed.LastUsedDate == nil || aws.ToString(used.AccessKeyLastUsed.ServiceName) != "iam" {
			t.Errorf("root key last used = %s %+v", aws.ToString(used.UserName), used.AccessKeyLastUsed)
		}
		gkR(c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: k.AccessKeyId})).must(t)
		if after := gkKeyIDs(t, c, ""); len(after) != 1 {
			t.Errorf("root keys after delete = %v", after)
		}
	})

	t.Run("case=other accounts' keys are invisible", func(t *testing.T) {
		other, otherIAM, _ := e.newAccount(t)
		_, err := otherIAM.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k2.AccessKeyId})
		gkErr(t, err, "NoSuchEntity", "The Access Key with id "+*k2.AccessKeyId+" cannot be found.")
		_, err = c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(other.AccessKeyID)})
		gkErr(t, err, "NoSuchEntity", "The Access Key with id "+other.AccessKeyID+" cannot be found.")
		_, err = otherIAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: k2.AccessKeyId})
		gkErr(t, err, "NoSuchEntity", "")
		if got := gkKeyIDs(t, c, "alice"); got[*k2.AccessKeyId] != types.StatusTypeActive {
			t.Errorf("alice's key after the other account's delete: %v", got)
		}
	})
}
