package enforce

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// grants is everything authorization knows about a caller that does not depend on the
// request: its compiled policies by type and what its global condition keys report.
type grants struct {
	caller   authz.Caller
	identity *authz.Policies // nil when the caller has no identity-based policy
	boundary *authz.Policies // nil when it has no permissions boundary
	session  *authz.Policies // nil when the session has no session policies
	// principalARN is aws:PrincipalArn: the role's ARN for a role session.
	principalARN string
	tags         []store.Tag // aws:PrincipalTag/*
	// userTags and userBoundary are the calling IAM user's own, for operations on itself.
	userTags     []store.Tag
	userBoundary string
	// usesKeys reports whether any of the policies reads a condition key or a policy
	// variable; when none does, requests skip building their condition context.
	usesKeys bool
	// gone is set for a session whose user or role no longer exists: deleted, or deleted and
	// re-created with a new unique id under the same name.
	gone bool
}

// docCacheMax bounds the compiled-document cache.
const docCacheMax = 4096

// docCache compiles policy documents once. A document's text determines its compiled form,
// so entries never go stale; the cache only bounds its size.
type docCache struct {
	mu      sync.RWMutex
	entries map[docKey]*policy.Policy
}

type docKey struct {
	t   policy.Type
	doc string
}

// compile returns doc parsed as a policy of type t. Stored documents were validated when
// they were written, so an error here means the data is damaged (or the parser changed); the
// request then fails rather than being decided without the policy.
func (c *docCache) compile(doc string, t policy.Type) (*policy.Policy, error) {
	k := docKey{t, doc}
	c.mu.RLock()
	p := c.entries[k]
	c.mu.RUnlock()
	if p != nil {
		return p, nil
	}
	p, err := policy.ParseStored([]byte(doc), t)
	if err != nil {
		return nil, fmt.Errorf("iam: stored %s policy does not parse: %w", t, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= docCacheMax {
		c.entries = make(map[docKey]*policy.Policy)
	}
	c.entries[k] = p
	return p, nil
}

// grantsFor returns the caller's grants, from the cache when they are fresh.
func (e *Enforcer) grantsFor(ctx context.Context, p *principal.Principal) (*grants, error) {
	key := p.AccessKeyID
	if key == "" {
		key = string(p.Type) + " " + p.ARN
	}
	now := e.now()
	epoch := e.creds.principals.Load()
	if g, ok := e.grants.Get(key, epoch, now); ok {
		return g, nil
	}
	var g *grants
	err := e.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		g, err = e.gather(ctx, tx, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	e.grants.Put(key, g, epoch, now)
	return g, nil
}

// SessionPrincipalExists reports whether the user or role whose temporary credentials p
// holds still exists. AWS answers the sessions of a deleted principal, and of one deleted and
// re-created under the same name, as an invalid token; the answer is cached with the caller's
// grants, so it costs no store read per request.
func (e *Enforcer) SessionPrincipalExists(ctx context.Context, p *principal.Principal) (bool, error) {
	if p.Session == nil || p.Type == principal.Root {
		return true, nil
	}
	gr, err := e.grantsFor(ctx, p)
	if err != nil {
		return false, err
	}
	return !gr.gone, nil
}

// CallerUser returns the calling IAM user's own tags and permissions boundary, from its cached
// grants, for the operations a user makes on itself (IAM's authorization targets).
func (e *Enforcer) CallerUser(ctx context.Context, p *principal.Principal) (tags []store.Tag, boundary string, err error) {
	gr, err := e.grantsFor(ctx, p)
	if err != nil {
		return nil, "", err
	}
	return gr.userTags, gr.userBoundary, nil
}

// PolicyList collects policies with their sources while gathering; IAM's simulator and
// ListPoliciesGrantingServiceAccess read the lists GatherEntity and GatherOwn fill.
type PolicyList struct {
	Policies []*policy.Policy
	Sources  []authz.Source
	// Kinds is each policy's SourcePolicyType for the simulator: user, group, role,
	// aws-managed or user-managed.
	Kinds []types.PolicySourceType
}

func (l *PolicyList) add(p *policy.Policy, src authz.Source, kind types.PolicySourceType) {
	l.Policies = append(l.Policies, p)
	l.Sources = append(l.Sources, src)
	l.Kinds = append(l.Kinds, kind)
}

// compiled returns the list as authz.Policies, nil when it is empty and nilIfEmpty is set.
func (l *PolicyList) compiled(nilIfEmpty bool) *authz.Policies {
	if len(l.Policies) == 0 && nilIfEmpty {
		return nil
	}
	return authz.NewPolicies(l.Policies, l.Sources)
}

// gather reads and compiles the policies that apply to p's requests (see the IAM User
// Guide's "Policy evaluation logic" and "Session policies"):
//   - an IAM user: its inline and attached policies and those of its groups; its boundary;
//   - a GetSessionToken session: the same as its user;
//   - a role session: the role's inline and attached policies and boundary, and the session
//     policies passed to AssumeRole (documents and managed policy ARNs);
//   - a federated user (GetFederationToken): its user's policies and boundary, capped by the
//     session policies (none passed means none allow: the session has no permissions);
//   - the root user: nothing (it is allowed everything in its account).
func (e *Enforcer) gather(ctx context.Context, tx store.Tx, p *principal.Principal) (*grants, error) {
	g := &grants{
		caller:       authz.Caller{Type: authz.PrincipalType(p.Type), Principal: policy.Principal{Account: p.Account, ARN: p.ARN}},
		principalARN: p.ARN,
	}
	sess := p.Session
	var identity, boundary PolicyList
	switch {
	case p.Type == principal.Root:
		return g, nil
	case sess != nil && sess.RoleID != "":
		role, account, err := e.GatherEntity(ctx, tx, store.KindRole, sess.RoleID, &identity, &boundary)
		if err != nil {
			return nil, err
		}
		roleARN := sess.RoleARN
		if role != nil {
			roleARN = entity.ARN(account, "role", role.Path, role.Name)
			g.tags = role.Tags
		} else {
			g.gone = true
		}
		g.caller.RoleARN, g.caller.RoleID, g.principalARN = roleARN, sess.RoleID, roleARN
		g.tags = mergeSessionTags(g.tags, sess.Tags)
		sessionPolicies, err := e.gatherSession(ctx, tx, p.Account, sess)
		if err != nil {
			return nil, err
		}
		g.session = sessionPolicies.compiled(true)
	default:
		userID := p.UserID
		if sess != nil && sess.UserID != "" {
			userID = sess.UserID
		}
		user, account, err := e.GatherEntity(ctx, tx, store.KindUser, userID, &identity, &boundary)
		if err != nil {
			return nil, err
		}
		if user != nil {
			g.userTags, g.userBoundary = user.Tags, user.Boundary
		} else if userID != p.Account {
			g.gone = true
		}
		if p.Type == principal.FederatedUser {
			switch {
			case user != nil:
				// A resource policy naming the federating user applies to its sessions.
				g.caller.RoleARN, g.caller.RoleID = entity.ARN(account, "user", user.Path, user.Name), userID
			case userID == p.Account:
				// Federated by the root user, whose permissions are everything: the session
				// policies alone decide.
				g.caller.RoleARN = "arn:aws:iam::" + p.Account + ":root"
				identity.add(rootIdentity(), authz.Source{Type: authz.IdentityPolicy, ID: "root"}, types.PolicySourceTypeNone)
			}
			g.tags = mergeSessionTags(nil, sessTags(sess))
			sessionPolicies, err := e.gatherSession(ctx, tx, p.Account, sess)
			if err != nil {
				return nil, err
			}
			g.session = sessionPolicies.compiled(false)
		} else {
			g.tags = g.userTags
			if user != nil {
				g.caller.ID = userID
			}
		}
	}
	g.identity = identity.compiled(true)
	g.boundary = boundary.compiled(true)
	all := append(append([]*policy.Policy(nil), identity.Policies...), boundary.Policies...)
	if g.session != nil {
		for i := range g.session.Set.Len() {
			all = append(all, g.session.Set.Policy(i))
		}
	}
	g.usesKeys = len(policy.ContextKeys(all...)) > 0
	return g, nil
}

func sessTags(sess *principal.Session) map[string]string {
	if sess == nil {
		return nil
	}
	return sess.Tags
}

// mergeSessionTags overlays session tags on an entity's tags: a session tag replaces the
// role's tag with the same key (keys compare without case).
func mergeSessionTags(tags []store.Tag, session map[string]string) []store.Tag {
	if len(session) == 0 {
		return tags
	}
	out := make([]store.Tag, 0, len(tags)+len(session))
	for _, t := range tags {
		overridden := false
		for k := range session {
			if strings.EqualFold(k, t.Key) {
				overridden = true
			}
		}
		if !overridden {
			out = append(out, t)
		}
	}
	for k, v := range session {
		out = append(out, store.Tag{Key: k, Value: v})
	}
	return out
}

// GatherEntity adds the identity-based policies of the user or role with id to identity, and
// its permissions boundary to boundary. For a user it adds those of its groups too. It
// returns the entity's metadata (nil when it no longer exists: it then has no policies) and
// its account.
func (e *Enforcer) GatherEntity(ctx context.Context, tx store.Tx, kind store.Kind, id string, identity, boundary *PolicyList) (*store.Meta, string, error) {
	rec, err := tx.GetByID(ctx, kind, id)
	if isNotFound(err) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	var m store.Meta
	if err := store.DecodeMeta(rec, &m); err != nil {
		return nil, "", err
	}
	account := rec.Account
	ownKind := types.PolicySourceTypeUser
	if kind == store.KindRole {
		ownKind = types.PolicySourceTypeRole
	}
	if err := e.GatherOwn(ctx, tx, account, kind, id, ownKind, identity); err != nil {
		return nil, "", err
	}
	if kind == store.KindUser {
		links, err := tx.LinksTo(ctx, account, store.LinkMember, id)
		if err != nil {
			return nil, "", err
		}
		for _, l := range links {
			if err := e.GatherOwn(ctx, tx, account, store.KindGroup, l.From, types.PolicySourceTypeGroup, identity); err != nil {
				return nil, "", err
			}
		}
	}
	if m.Boundary != "" {
		if err := e.addManaged(ctx, tx, account, m.Boundary, authz.BoundaryPolicy, boundary); err != nil {
			return nil, "", err
		}
	}
	return &m, account, nil
}

// GatherOwn adds the inline and attached policies of one user, group or role.
func (e *Enforcer) GatherOwn(ctx context.Context, tx store.Tx, account string, kind store.Kind, id string, inlineKind types.PolicySourceType, l *PolicyList) error {
	recs, err := tx.List(ctx, store.KindInlinePolicy, account, store.Query{Prefix: store.ChildKey(id, "")})
	if err != nil {
		return err
	}
	for _, r := range recs {
		var ip store.InlinePolicy
		if err := store.Decode(r, &ip); err != nil {
			return err
		}
		p, err := e.docs.compile(ip.Document, policy.Identity)
		if err != nil {
			return err
		}
		l.add(p, authz.Source{Type: authz.IdentityPolicy, ID: ip.Name}, inlineKind)
	}
	links, err := tx.LinksFrom(ctx, account, store.LinkAttached, store.PrincipalRef(kind, id))
	if err != nil {
		return err
	}
	for _, link := range links {
		if err := e.addManaged(ctx, tx, account, link.To, authz.IdentityPolicy, l); err != nil {
			return err
		}
	}
	return nil
}

// addManaged adds the default version of the managed policy policyARN; a policy that no
// longer exists adds nothing.
func (e *Enforcer) addManaged(ctx context.Context, tx store.Tx, account, policyARN string, t authz.PolicyType, l *PolicyList) error {
	doc, kind, err := managedDocument(ctx, tx, account, policyARN)
	if err != nil || doc == "" {
		return err
	}
	p, err := e.docs.compile(doc, policy.Identity)
	if err != nil {
		return err
	}
	l.add(p, authz.Source{Type: t, ID: policyARN}, kind)
	return nil
}

// managedDocument returns the default version's document of a customer- or AWS-managed
// policy, "" when there is none.
func managedDocument(ctx context.Context, tx store.Tx, account, policyARN string) (string, types.PolicySourceType, error) {
	m, err := entity.FindPolicy(ctx, tx, account, policyARN)
	if err != nil {
		if isNotFound(err) {
			return "", "", nil
		}
		return "", "", err
	}
	if m == nil {
		return "", "", nil
	}
	if m.AWS != nil {
		return m.AWS.Document, types.PolicySourceTypeAwsManaged, nil
	}
	v, err := store.Load[store.PolicyVersion](ctx, tx, store.KindPolicyVersion, account, store.ChildKey(m.Local.ID, m.Local.DefaultVersionID))
	if isNotFound(err) {
		return "", "", nil
	}
	if err != nil {
		return "", "", err
	}
	return v.Document, types.PolicySourceTypeUserManaged, nil
}

// gatherSession compiles a session's policies: the documents passed as Policy and the managed
// policies passed as PolicyArns, which are in the session's account.
func (e *Enforcer) gatherSession(ctx context.Context, tx store.Tx, account string, sess *principal.Session) (*PolicyList, error) {
	l := &PolicyList{}
	if sess == nil {
		return l, nil
	}
	for i, doc := range sess.Policies {
		p, err := e.docs.compile(doc, policy.Session)
		if err != nil {
			return nil, err
		}
		l.add(p, authz.Source{Type: authz.SessionPolicy, ID: fmt.Sprintf("Policy.%d", i+1)}, types.PolicySourceTypeNone)
	}
	for _, a := range sess.PolicyARNs {
		if err := e.addManaged(ctx, tx, account, a, authz.SessionPolicy, l); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// rootIdentity is the identity-based policy that stands for the root user's permissions in
// the sessions it federates.
func rootIdentity() *policy.Policy {
	return policy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, policy.Identity)
}
