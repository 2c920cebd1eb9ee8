package iam

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	arnpkg "github.com/gatehouse-iam/gatehouse/arn"
	"github.com/gatehouse-iam/gatehouse/internal/audit"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/servicedata"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// Service last accessed reports (IAM API Reference: GenerateServiceLastAccessedDetails,
// GetServiceLastAccessedDetails, GetServiceLastAccessedDetailsWithEntities; IAM User Guide,
// "Refine permissions in AWS using last accessed information"), computed from the audit trail
// (store.EventLog).
//
// What AWS documents, and Gatehouse does:
//   - The report lists every service the entity's permissions policies allow ("It only
//     applies permissions policy logic": no boundaries, resource policies or session
//     policies), each with its last access when there was one in the tracking period, sorted
//     by service namespace. A user's policies are its own and its groups'; a group's and a
//     role's their own; a managed policy's is itself. Which statements grant a service is
//     ListPoliciesGrantingServiceAccess's rule (policies_granting.go).
//   - "The service last accessed data includes all attempts to access an AWS API, not just
//     the successful ones": a call that failed or was denied counts; an unauthenticated one
//     does not (the trail has no principal for it).
//   - LastAuthenticatedEntity is the user for a user report, the role for a role report (the
//     events of its sessions count), the member for a group report, the user or role for a
//     policy report; TotalAuthenticatedEntities counts the distinct ones.
//   - GetServiceLastAccessedDetailsWithEntities lists, for one service, a group's members or
//     the users and roles a policy is attached to (a user or role report: the entity itself),
//     the most recent access first.
//   - IAM tracks activity "for at least the last 400 days" (the API Reference's current
//     text; older versions said 365): events older than that are not read.
//   - "The JobId returned by GenerateServiceLastAccessedDetail must be used by the same role
//     within a session, or by the same user": a job answers only the identity that made it
//     (the role for a role session); anyone else gets NoSuchEntity, as for an unknown id.
//
// Where AWS is silent, Gatehouse decides:
//   - Generation is synchronous, as the credential report's (credential_report.go): the job
//     is COMPLETED when GenerateServiceLastAccessedDetails returns, and IN_PROGRESS and
//     FAILED are never answered.
//   - Job ids are UUIDs (the API's fixed length of 36), version 7 so that they sort by
//     creation; a job is kept lastAccessedJobLifetime, and each Generate of the account
//     deletes expired ones.
//   - Action-level data ("tracked actions") exists for the services whose calls the trail
//     records: IAM, STS and the protected services (every namespace with events). For those,
//     TrackedActionsLastAccessed lists every action the policies allow, each with its last
//     access when there was one; other services have none.
//   - A namespace the Service Authorization Reference does not know (a protected service
//     declared with --services) is listed when the trail has calls to it by the report's
//     entities and the policies allow one of those calls; its ServiceName is its namespace.
//   - A backend that keeps no events answers every report with no accesses.
//   - GetServiceLastAccessedDetailsWithEntities for a namespace the report does not list
//     answers an empty list.
//   - For a report of users only (a user, a group, a policy attached to users only), the trail
//     is read by user name, so calls made under a user's former name (before UpdateUser
//     renamed it) are not found; reports with a role read every event of the window.

// kindLastAccessedJob holds the jobs of GenerateServiceLastAccessedDetails: Key = the job id.
const kindLastAccessedJob store.Kind = "service-last-accessed-job"

const (
	// lastAccessedWindow is the tracking period.
	lastAccessedWindow = 400 * 24 * time.Hour
	// lastAccessedJobLifetime is how long a job can be read.
	lastAccessedJobLifetime = 7 * 24 * time.Hour
	// lastAccessedPruneBatch caps the expired jobs one Generate deletes.
	lastAccessedPruneBatch = 100
	// lastAccessedUserQueries is the most users a report reads the trail for one by one;
	// more, or any role, and the whole window is read once.
	lastAccessedUserQueries = 50
	// eventPage is how many events one read of the trail returns.
	eventPage = 1000
)

// lastAccessedJob is one report, as stored.
type lastAccessedJob struct {
	Owner     string             `json:"owner"` // the ARN of the identity that made it
	ARN       string             `json:"arn"`
	Type      string             `json:"type"` // SERVICE_LEVEL or ACTION_LEVEL
	Created   time.Time          `json:"created"`
	Completed time.Time          `json:"completed"`
	Entities  []laEntity         `json:"entities"`
	Services  []laServiceDetails `json:"services"`
}

// laEntity is a user or role whose calls the report reads.
type laEntity struct {
	ARN  string `json:"arn"`
	Name string `json:"name"`
	Type string `json:"type"` // USER or ROLE
	ID   string `json:"id"`
	Path string `json:"path"`
}

// laAccess is the last call of a service or action.
type laAccess struct {
	Time   time.Time `json:"time"`
	Entity string    `json:"entity"` // ARN
	Region string    `json:"region"`
}

type laAction struct {
	Name string    `json:"name"`
	Last *laAccess `json:"last,omitempty"`
}

// laEntityUse is when one entity (an index in Entities) last called the service.
type laEntityUse struct {
	Entity int       `json:"entity"`
	Time   time.Time `json:"time"`
}

type laServiceDetails struct {
	Namespace string        `json:"ns"`
	Name      string        `json:"name"`
	Last      *laAccess     `json:"last,omitempty"`
	Total     int           `json:"total"`
	Tracked   bool          `json:"tracked,omitempty"`
	Actions   []laAction    `json:"actions,omitempty"`
	Uses      []laEntityUse `json:"uses,omitempty"` // most recent first
}

func (s *Service) lastAccessedOperations() []operation {
	return []operation{
		{"GenerateServiceLastAccessedDetails", awsquery.Handle(s.GenerateServiceLastAccessedDetails)},
		{"GetServiceLastAccessedDetails", awsquery.Handle(s.GetServiceLastAccessedDetails)},
		{"GetServiceLastAccessedDetailsWithEntities", awsquery.Handle(s.GetServiceLastAccessedDetailsWithEntities)},
	}
}

// WithEventLog makes the reports read the audit trail from log; it returns s. Without it the
// service reads the trail of its store when the store keeps one.
func (s *Service) WithEventLog(log store.EventLog) *Service {
	s.events = log
	return s
}

func (s *Service) eventLog() store.EventLog {
	if s.events != nil {
		return s.events
	}
	log, _ := s.store.(store.EventLog)
	return log
}

// jobOwner is the identity a job belongs to: the role of a role session, else the caller.
func jobOwner(p *principal.Principal) string {
	if p.Session != nil && p.Session.RoleARN != "" {
		return p.Session.RoleARN
	}
	return p.ARN
}

// newJobID returns a version 7 UUID for now: it sorts by creation time.
func newJobID(now time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[6:]) // crypto/rand.Read does not fail
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(now.UnixMilli()))
	copy(b[0:6], ms[2:8])
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// laTarget is what the report's Arn names.
type laTarget struct {
	kind store.Kind // KindUser, KindGroup, KindRole or KindPolicy
	name string
}

// lastAccessedTarget reads the Arn of a user, group, role or managed policy.
func lastAccessedTarget(a string) (laTarget, error) {
	if !strings.HasPrefix(a, "arn:") {
		return laTarget{}, awsquery.InvalidInput("ARN %s is not valid.", a) // AWS's text for a value that is not an ARN
	}
	if _, _, name, ok := entity.ParsePolicyARN(a); ok {
		return laTarget{kind: store.KindPolicy, name: name}, nil
	}
	invalid := awsquery.InvalidInput("Invalid ARN %s: GenerateServiceLastAccessedDetails takes the ARN of an IAM user, group, role or managed policy.", a)
	rest, ok := strings.CutPrefix(a, "arn:aws:iam::")
	if !ok {
		return laTarget{}, invalid
	}
	account, resource, _ := strings.Cut(rest, ":")
	typ, pathName, ok := strings.Cut(resource, "/")
	if !policy.IsAccountID(account) || !ok || pathName == "" || strings.HasSuffix(pathName, "/") {
		return laTarget{}, invalid
	}
	name := pathName[strings.LastIndex(pathName, "/")+1:]
	switch typ {
	case "user":
		return laTarget{kind: store.KindUser, name: name}, nil
	case "group":
		return laTarget{kind: store.KindGroup, name: name}, nil
	case "role":
		return laTarget{kind: store.KindRole, name: name}, nil
	}
	return laTarget{}, invalid
}

// GenerateServiceLastAccessedDetails computes the report of a user, group, role or managed
// policy and keeps it as a completed job.
func (s *Service) GenerateServiceLastAccessedDetails(ctx context.Context, in *iam.GenerateServiceLastAccessedDetailsInput) (*iam.GenerateServiceLastAccessedDetailsOutput, error) {
	p := caller(ctx)
	account := p.Account
	granularity := cmp.Or(in.Granularity, types.AccessAdvisorUsageGranularityTypeServiceLevel)
	if !slices.Contains(granularity.Values(), granularity) {
		return nil, awsquery.InvalidInput("Invalid Granularity %s: it must be SERVICE_LEVEL or ACTION_LEVEL.", granularity)
	}
	targetARN := aws.ToString(in.Arn)
	t, err := lastAccessedTarget(targetARN)
	if err != nil {
		return nil, err
	}
	var docs []*policy.Policy
	var ents []laEntity
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		docs, ents, err = s.lastAccessedSubject(ctx, tx, account, t, targetARN)
		return err
	})
	if err != nil {
		return nil, err
	}
	now := s.timestamp()
	// The trail keeps exact times: the calls of the current second count.
	uses, err := s.entityCalls(ctx, account, ents, now.Add(-lastAccessedWindow), s.now())
	if err != nil {
		return nil, s.internal(ctx, err)
	}
	ref, err := servicedata.Load()
	if err != nil {
		return nil, fmt.Errorf("iam: service reference: %w", err)
	}
	job := &lastAccessedJob{
		Owner: jobOwner(p), ARN: targetARN, Type: string(granularity), Created: now, Completed: s.timestamp(),
		Entities: ents,
		Services: lastAccessedServices(ref, docs, ents, uses, granularity == types.AccessAdvisorUsageGranularityTypeActionLevel),
	}
	id := newJobID(s.now())
	// A report grants nothing: create, not update.
	err = s.create(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := pruneLastAccessedJobs(ctx, tx, account, now); err != nil {
			return err
		}
		return tx.Insert(ctx, store.Record{Account: account, Kind: kindLastAccessedJob, Key: id, Data: store.Encode(job)})
	})
	if err != nil {
		return nil, err
	}
	return &iam.GenerateServiceLastAccessedDetailsOutput{JobId: aws.String(id)}, nil
}

// pruneLastAccessedJobs deletes the account's oldest jobs that have expired (ids sort by
// creation).
func pruneLastAccessedJobs(ctx context.Context, tx store.Tx, account string, now time.Time) error {
	recs, err := tx.List(ctx, kindLastAccessedJob, account, store.Query{Limit: lastAccessedPruneBatch})
	if err != nil {
		return err
	}
	for _, r := range recs {
		var j struct {
			Created time.Time `json:"created"`
		}
		if err := json.Unmarshal(r.Data, &j); err != nil {
			return fmt.Errorf("iam: last accessed job %s: %w", r.Key, err)
		}
		if now.Sub(j.Created) < lastAccessedJobLifetime {
			return nil
		}
		if err := tx.Delete(ctx, kindLastAccessedJob, account, r.Key); err != nil && !isNotFound(err) {
			return err
		}
	}
	return nil
}

// lastAccessedSubject loads the permissions policies the report reads and the users and roles
// whose calls count.
func (s *Service) lastAccessedSubject(ctx context.Context, tx store.Tx, account string, t laTarget, targetARN string) ([]*policy.Policy, []laEntity, error) {
	if t.kind == store.KindPolicy {
		return s.policySubject(ctx, tx, account, targetARN)
	}
	granting, err := s.identityPolicies(ctx, tx, account, t.kind, t.name, targetARN)
	if err != nil {
		return nil, nil, err
	}
	docs := make([]*policy.Policy, len(granting))
	for i, g := range granting {
		docs[i] = g.doc
	}
	rec, err := tx.Get(ctx, t.kind, account, store.NameKey(t.name))
	if err != nil {
		return nil, nil, err // identityPolicies found it in this transaction
	}
	var m store.Meta
	if err := store.DecodeMeta(rec, &m); err != nil {
		return nil, nil, err
	}
	switch t.kind {
	case store.KindUser:
		return docs, []laEntity{{ARN: targetARN, Name: m.Name, Type: string(types.PolicyOwnerEntityTypeUser), ID: rec.ID, Path: m.Path}}, nil
	case store.KindRole:
		return docs, []laEntity{{ARN: targetARN, Name: m.Name, Type: string(types.PolicyOwnerEntityTypeRole), ID: rec.ID, Path: m.Path}}, nil
	}
	var ents entitySet
	if err := ents.addMembers(ctx, tx, account, rec.ID); err != nil {
		return nil, nil, err
	}
	return docs, ents.sorted(), nil
}

// policySubject loads a managed policy's document and the users and roles it applies to:
// those it is attached to and the members of the groups it is attached to.
func (s *Service) policySubject(ctx context.Context, tx store.Tx, account, policyARN string) ([]*policy.Policy, []laEntity, error) {
	m, err := entity.FindPolicy(ctx, tx, account, policyARN)
	if err != nil {
		return nil, nil, err
	}
	if m == nil {
		return nil, nil, awsquery.NoSuchEntity("Policy %s was not found.", policyARN) // GetPolicy's text
	}
	doc := ""
	if m.AWS != nil {
		doc = m.AWS.Document
	} else {
		v, err := store.Load[store.PolicyVersion](ctx, tx, store.KindPolicyVersion, account, store.ChildKey(m.Local.ID, m.Local.DefaultVersionID))
		if err != nil {
			return nil, nil, err
		}
		doc = v.Document
	}
	p, err := policy.ParseStored([]byte(doc), policy.Identity)
	if err != nil {
		return nil, nil, fmt.Errorf("iam: stored policy %s does not parse: %w", policyARN, err)
	}
	links, err := tx.LinksTo(ctx, account, store.LinkAttached, policyARN)
	if err != nil {
		return nil, nil, err
	}
	var ents entitySet
	for _, l := range links {
		kind, id, _ := strings.Cut(l.From, ":")
		switch store.Kind(kind) {
		case store.KindUser:
			err = ents.addUser(ctx, tx, account, id)
		case store.KindRole:
			err = ents.addRole(ctx, tx, account, id)
		case store.KindGroup:
			err = ents.addMembers(ctx, tx, account, id)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return []*policy.Policy{p}, ents.sorted(), nil
}

// entitySet collects users and roles once each.
type entitySet struct {
	seen map[string]bool
	list []laEntity
}

func (e *entitySet) add(x laEntity) {
	if e.seen == nil {
		e.seen = map[string]bool{}
	}
	if !e.seen[x.ID] {
		e.seen[x.ID] = true
		e.list = append(e.list, x)
	}
}

func (e *entitySet) addUser(ctx context.Context, tx store.Tx, account, id string) error {
	u, _, err := store.LoadByID[store.User](ctx, tx, store.KindUser, id)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	e.add(laEntity{ARN: entity.UserARN(account, u), Name: u.Name, Type: string(types.PolicyOwnerEntityTypeUser), ID: u.ID, Path: u.Path})
	return nil
}

func (e *entitySet) addRole(ctx context.Context, tx store.Tx, account, id string) error {
	r, _, err := store.LoadByID[store.Role](ctx, tx, store.KindRole, id)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	e.add(laEntity{ARN: entity.RoleARN(account, r), Name: r.Name, Type: string(types.PolicyOwnerEntityTypeRole), ID: r.ID, Path: r.Path})
	return nil
}

func (e *entitySet) addMembers(ctx context.Context, tx store.Tx, account, groupID string) error {
	links, err := tx.LinksFrom(ctx, account, store.LinkMember, groupID)
	if err != nil {
		return err
	}
	for _, l := range links {
		if err := e.addUser(ctx, tx, account, l.To); err != nil {
			return err
		}
	}
	return nil
}

// sorted returns the entities by ARN.
func (e *entitySet) sorted() []laEntity {
	slices.SortFunc(e.list, func(a, b laEntity) int { return strings.Compare(a.ARN, b.ARN) })
	return e.list
}

// laCall is one call of an entity found in the trail.
type laCall struct {
	entity            int
	namespace, action string
	region            string
	time              time.Time
}

// entityCalls reads the trail of account between since and until for the calls of ents.
func (s *Service) entityCalls(ctx context.Context, account string, ents []laEntity, since, until time.Time) ([]laCall, error) {
	log := s.eventLog()
	if log == nil || len(ents) == 0 {
		return nil, nil
	}
	byID := make(map[string]int, len(ents))
	byARN := make(map[string]int, len(ents))
	usersOnly := len(ents) <= lastAccessedUserQueries
	for i, e := range ents {
		byID[e.ID], byARN[e.ARN] = i, i
		usersOnly = usersOnly && e.Type == string(types.PolicyOwnerEntityTypeUser)
	}
	var calls []laCall
	visit := func(se store.Event) error {
		var ev audit.Event
		if err := json.Unmarshal(se.Data, &ev); err != nil {
			return fmt.Errorf("iam: audit event %s: %w", se.ID, err)
		}
		id, arn := TrailIdentity(ev.UserIdentity)
		i, ok := byID[id]
		if id == "" {
			i, ok = byARN[arn]
		}
		ns, found := strings.CutSuffix(ev.EventSource, ".amazonaws.com")
		if !ok || !found || ev.EventName == "" {
			return nil
		}
		calls = append(calls, laCall{entity: i, namespace: ns, action: ev.EventName, region: ev.AWSRegion, time: se.Time})
		return nil
	}
	if !usersOnly {
		return calls, ScanEvents(ctx, log, store.EventQuery{Account: account, Start: since, End: until}, visit)
	}
	for _, e := range ents {
		q := store.EventQuery{Account: account, Start: since, End: until, Attribute: store.EventAttrUsername, Value: e.Name}
		if err := ScanEvents(ctx, log, q, visit); err != nil {
			return nil, err
		}
	}
	return calls, nil
}

// ScanEvents calls visit for every event q selects, newest first, reading the trail a page at
// a time (q.Before and q.Limit are set here).
func ScanEvents(ctx context.Context, log store.EventLog, q store.EventQuery, visit func(store.Event) error) error {
	q.Limit, q.Before = eventPage, nil
	for {
		evs, err := log.Events(ctx, q)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			if err := visit(ev); err != nil {
				return err
			}
		}
		if len(evs) < q.Limit {
			return nil
		}
		last := evs[len(evs)-1]
		q.Before = &store.EventCursor{Time: last.Time, ID: last.ID}
	}
}

// TrailIdentity is the IAM entity an event's caller acts as: the user (its id and ARN) of an
// IAMUser call, the role of an AssumedRole call (its sessions' calls are the role's); "" for
// others (root, federated users, unauthenticated callers).
func TrailIdentity(u *audit.UserIdentity) (id, arn string) {
	if u == nil {
		return "", ""
	}
	switch u.Type {
	case "IAMUser":
		if u.ARN != "" {
			return u.PrincipalID, u.ARN
		}
	case "AssumedRole":
		if sc := u.SessionContext; sc != nil && sc.SessionIssuer != nil && sc.SessionIssuer.Type == "Role" && sc.SessionIssuer.ARN != "" {
			return sc.SessionIssuer.PrincipalID, sc.SessionIssuer.ARN
		}
	}
	return "", ""
}

// lastAccessedServices is the report: every service the policies allow, by namespace, with its
// last calls.
func lastAccessedServices(ref *servicedata.Reference, docs []*policy.Policy, ents []laEntity, calls []laCall, actionLevel bool) []laServiceDetails {
	// The calls and the actions the trail shows for each namespace.
	seen := map[string]map[string]bool{}
	byNamespace := map[string][]laCall{}
	for _, c := range calls {
		if seen[c.namespace] == nil {
			seen[c.namespace] = map[string]bool{}
		}
		seen[c.namespace][c.action] = true
		byNamespace[c.namespace] = append(byNamespace[c.namespace], c)
	}
	type candidate struct {
		ns, name string
		actions  []string
	}
	var cands []candidate
	for _, svc := range ref.Services() {
		acts := svc.Actions()
		for a := range seen[svc.Prefix] {
			if !slices.ContainsFunc(acts, func(x string) bool { return strings.EqualFold(x, a) }) {
				acts = append(acts, a)
			}
		}
		cands = append(cands, candidate{svc.Prefix, svc.Name, acts})
	}
	for ns, acts := range seen {
		if _, ok := ref.Service(ns); !ok {
			cands = append(cands, candidate{ns, ns, setKeys(acts)})
		}
	}
	slices.SortFunc(cands, func(a, b candidate) int { return strings.Compare(a.ns, b.ns) })

	out := []laServiceDetails{}
	for _, c := range cands {
		if !slices.ContainsFunc(docs, func(p *policy.Policy) bool { return grantsService(p, c.ns, c.actions) }) {
			continue
		}
		d := laServiceDetails{Namespace: c.ns, Name: c.name}
		last := map[int]time.Time{}
		actionLast := map[string]*laAccess{}
		for _, call := range byNamespace[c.ns] { // every attempt counts, allowed or not
			if d.Last == nil || call.time.After(d.Last.Time) {
				d.Last = &laAccess{Time: call.time, Entity: ents[call.entity].ARN, Region: call.region}
			}
			if t, ok := last[call.entity]; !ok || call.time.After(t) {
				last[call.entity] = call.time
			}
			key := strings.ToLower(call.action)
			if a := actionLast[key]; a == nil || call.time.After(a.Time) {
				actionLast[key] = &laAccess{Time: call.time, Entity: ents[call.entity].ARN, Region: call.region}
			}
		}
		d.Total = len(last)
		for i, t := range last {
			d.Uses = append(d.Uses, laEntityUse{Entity: i, Time: t})
		}
		slices.SortFunc(d.Uses, func(a, b laEntityUse) int {
			return cmp.Or(b.Time.Compare(a.Time), strings.Compare(ents[a.Entity].ARN, ents[b.Entity].ARN))
		})
		d.Tracked = c.ns == "iam" || c.ns == "sts" || seen[c.ns] != nil
		if actionLevel && d.Tracked {
			acts := slices.Clone(c.actions)
			slices.SortFunc(acts, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
			for _, a := range acts {
				if slices.ContainsFunc(docs, func(p *policy.Policy) bool { return allowsAction(p, c.ns, a) }) {
					d.Actions = append(d.Actions, laAction{Name: a, Last: actionLast[strings.ToLower(a)]})
				}
			}
		}
		out = append(out, d)
	}
	return out
}

func setKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// allowsAction reports whether one of p's Allow statements names ns:action (Action matches it,
// or NotAction does not). Resource and Condition are not considered, as for grantsService.
func allowsAction(p *policy.Policy, ns, action string) bool {
	for _, st := range p.Statements() {
		if st.Effect != policy.Allow {
			continue
		}
		matched := false
		for _, pat := range st.Action {
			act, whole, ok := forService(pat, ns)
			if whole || ok && arnpkg.Glob(act, action, true) {
				matched = true
				break
			}
		}
		if matched != st.NotAction {
			return true
		}
	}
	return false
}

// loadLastAccessedJob reads the caller's job of that id.
func (s *Service) loadLastAccessedJob(ctx context.Context, jobID string) (*lastAccessedJob, error) {
	p := caller(ctx)
	var job *lastAccessedJob
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		job, err = store.Load[lastAccessedJob](ctx, tx, kindLastAccessedJob, p.Account, jobID)
		if isNotFound(err) {
			job, err = nil, nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if job == nil || job.Owner != jobOwner(p) || s.timestamp().Sub(job.Created) >= lastAccessedJobLifetime {
		// AWS documents NoSuchEntity for an unknown job; the text is Gatehouse's, in the style
		// of IAM's other NoSuchEntity messages.
		return nil, awsquery.NoSuchEntity("The job with ID %s cannot be found.", jobID)
	}
	return job, nil
}

// indexMarker reads a Marker that holds the index of the first item of the page.
func indexMarker(marker *string, items int) (int, error) {
	if marker == nil || *marker == "" {
		return 0, nil
	}
	text, ok := decodeMarker(*marker)
	if !ok {
		return 0, invalidMarker()
	}
	n, err := strconv.Atoi(text)
	if err != nil || n <= 0 || n >= items || strconv.Itoa(n) != text {
		return 0, invalidMarker()
	}
	return n, nil
}

// pageRange is the [start, end) of a page, IsTruncated and the next Marker.
func pageRange(marker *string, maxItems *int32, items int) (start, end int, truncated bool, next *string, err error) {
	if start, err = indexMarker(marker, items); err != nil {
		return 0, 0, false, nil, err
	}
	limit := 100
	if maxItems != nil {
		limit = int(*maxItems)
	}
	end = min(items, start+max(limit, 1))
	if end < items {
		truncated, next = true, encodeMarker(strconv.Itoa(end))
	}
	return start, end, truncated, next, nil
}

func optTime(t time.Time) *time.Time { return &t }

// GetServiceLastAccessedDetails returns a report, a page of services at a time.
func (s *Service) GetServiceLastAccessedDetails(ctx context.Context, in *iam.GetServiceLastAccessedDetailsInput) (*iam.GetServiceLastAccessedDetailsOutput, error) {
	job, err := s.loadLastAccessedJob(ctx, aws.ToString(in.JobId))
	if err != nil {
		return nil, err
	}
	start, end, truncated, next, err := pageRange(in.Marker, in.MaxItems, len(job.Services))
	if err != nil {
		return nil, err
	}
	out := &iam.GetServiceLastAccessedDetailsOutput{
		JobStatus: types.JobStatusTypeCompleted, JobType: types.AccessAdvisorUsageGranularityType(job.Type),
		JobCreationDate: optTime(job.Created), JobCompletionDate: optTime(job.Completed),
		ServicesLastAccessed: make([]types.ServiceLastAccessed, 0, end-start), IsTruncated: truncated, Marker: next,
	}
	actionLevel := job.Type == string(types.AccessAdvisorUsageGranularityTypeActionLevel)
	for _, d := range job.Services[start:end] {
		e := types.ServiceLastAccessed{ServiceName: aws.String(d.Name), ServiceNamespace: aws.String(d.Namespace), TotalAuthenticatedEntities: aws.Int32(int32(d.Total))}
		if d.Last != nil {
			e.LastAuthenticated, e.LastAuthenticatedEntity, e.LastAuthenticatedRegion = optTime(d.Last.Time), aws.String(d.Last.Entity), aws.String(d.Last.Region)
		}
		if actionLevel && len(d.Actions) > 0 {
			for _, a := range d.Actions {
				t := types.TrackedActionLastAccessed{ActionName: aws.String(a.Name)}
				if a.Last != nil {
					t.LastAccessedTime, t.LastAccessedEntity, t.LastAccessedRegion = optTime(a.Last.Time), aws.String(a.Last.Entity), aws.String(a.Last.Region)
				}
				e.TrackedActionsLastAccessed = append(e.TrackedActionsLastAccessed, t)
			}
		}
		out.ServicesLastAccessed = append(out.ServicesLastAccessed, e)
	}
	return out, nil
}

// GetServiceLastAccessedDetailsWithEntities lists the users and roles of a report with when
// each last called one service, the most recent first, then those that did not.
func (s *Service) GetServiceLastAccessedDetailsWithEntities(ctx context.Context, in *iam.GetServiceLastAccessedDetailsWithEntitiesInput) (*iam.GetServiceLastAccessedDetailsWithEntitiesOutput, error) {
	job, err := s.loadLastAccessedJob(ctx, aws.ToString(in.JobId))
	if err != nil {
		return nil, err
	}
	ns := aws.ToString(in.ServiceNamespace)
	details := []types.EntityDetails{}
	if i := slices.IndexFunc(job.Services, func(d laServiceDetails) bool { return strings.EqualFold(d.Namespace, ns) }); i >= 0 {
		d := job.Services[i]
		used := map[int]bool{}
		for _, u := range d.Uses {
			used[u.Entity] = true
			details = append(details, types.EntityDetails{EntityInfo: entityInfo(job.Entities[u.Entity]), LastAuthenticated: optTime(u.Time)})
		}
		for i, e := range job.Entities {
			if !used[i] {
				details = append(details, types.EntityDetails{EntityInfo: entityInfo(e)})
			}
		}
	}
	start, end, truncated, next, err := pageRange(in.Marker, in.MaxItems, len(details))
	if err != nil {
		return nil, err
	}
	return &iam.GetServiceLastAccessedDetailsWithEntitiesOutput{
		JobStatus: types.JobStatusTypeCompleted, JobCreationDate: optTime(job.Created), JobCompletionDate: optTime(job.Completed),
		EntityDetailsList: details[start:end], IsTruncated: truncated, Marker: next,
	}, nil
}

func entityInfo(e laEntity) *types.EntityInfo {
	return &types.EntityInfo{Arn: aws.String(e.ARN), Name: aws.String(e.Name), Type: types.PolicyOwnerEntityType(e.Type), Id: aws.String(e.ID), Path: aws.String(e.Path)}
}
