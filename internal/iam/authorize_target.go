package iam

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// target is the resource a request acts on, as far as authorization needs it.
type target struct {
	typ string // the reference's resource type: "user", "role", "federated-user", ...
	arn string
	// display is how AWS's AccessDenied messages name an entity found by name ("user bob",
	// "role deployer", "policy ARN"); "" means the ARN.
	display  string
	tags     []store.Tag // aws:ResourceTag/*, iam:ResourceTag/*
	boundary string      // the entity's permissions boundary ARN, for iam:PermissionsBoundary
	// newARN is the resource's ARN after a rename (UpdateUser, UpdateGroup,
	// UpdateServerCertificate): AWS wants permission on both names.
	newARN, newDisplay string
	// credentialService is the service of the service-specific credential a request names by
	// id, for iam:ServiceSpecificCredentialServiceName.
	credentialService string
}

// accessesFor turns a decoded request into the authorization questions it asks: one, or two
// for a rename.
func (s *Service) accessesFor(ctx context.Context, p *principal.Principal, g *opGuard, in input) ([]enforce.Access, error) {
	acc := enforce.Access{Action: g.ref.Action, Resource: listResource(g.ref.Action, p.Account, in)}
	var t *target
	if len(g.ref.Resources) > 0 {
		var err error
		if t, err = s.findTarget(ctx, p, g.ref.Action, in); err != nil {
			return nil, err
		}
		acc.Resource, acc.Display = t.arn, t.display
		if a := arnAccount(t.arn); a != "" && a != p.Account {
			// A resource of another account is decided as a cross-account request: IAM
			// resources have no resource-based policy, so it is denied. The handler would act
			// in the caller's account, but nothing is decided as if the ARN were local.
			acc.ResourceAccount = a
		}
		acc.Keys = s.guard.resourceKeys(serviceOf(g.ref.Action), t, g.ref.Resources)
	}
	acc.Keys = append(acc.Keys, actionKeys(g.ref.Keys, in, t)...)
	accs := []enforce.Access{acc}
	if t != nil && t.newARN != "" && t.newARN != t.arn {
		renamed := acc
		renamed.Resource, renamed.Display = t.newARN, t.newDisplay
		accs = append(accs, renamed)
	}
	return accs, nil
}

// listResource is the resource AWS authorizes the List operations of path-based entities on,
// which the reference lists without a resource type: the entity type's ARN prefix with the
// PathPrefix (iam:ListUsers on arn:aws:iam::ACCOUNT:user/), and for ListPolicies the text
// "policy path /", as AWS's AccessDenied messages show them. Other actions without a resource
// type have "*".
func listResource(action, account string, in input) string {
	var typ string
	switch action {
	case "iam:ListUsers":
		typ = "user"
	case "iam:ListGroups":
		typ = "group"
	case "iam:ListRoles":
		typ = "role"
	case "iam:ListInstanceProfiles":
		typ = "instance-profile"
	case "iam:ListServerCertificates":
		typ = "server-certificate"
	case "iam:ListPolicies":
		return "policy path " + pathOf(in, "PathPrefix")
	default:
		return "*"
	}
	return entity.ARN(account, typ, pathOf(in, "PathPrefix"), "")
}

func serviceOf(action string) string {
	svc, _, _ := strings.Cut(action, ":")
	return svc
}

// resourceKeys are the condition keys the reference lists for t's resource type (and for the
// action's use of it): its tags as aws:ResourceTag/KEY and, for users and roles,
// iam:ResourceTag/KEY.
func (g *guard) resourceKeys(service string, t *target, uses []resourceRef) []enforce.ContextKey {
	if len(t.tags) == 0 {
		return nil
	}
	keys := g.types[service+":"+t.typ].Keys
	for _, u := range uses {
		if u.Type == t.typ {
			keys = append(keys[:len(keys):len(keys)], u.Keys...)
		}
	}
	var out []enforce.ContextKey
	for _, k := range keys {
		prefix, ok := strings.CutSuffix(k, "${TagKey}")
		if !ok || !strings.HasSuffix(prefix, "ResourceTag/") {
			continue
		}
		for _, tag := range t.tags {
			out = append(out, enforce.ContextKey{Name: prefix + tag.Key, Values: []string{tag.Value}})
		}
	}
	return out
}

// inputKeyField names the input member behind each action-level condition key that is a
// request parameter as it stands (the Service Authorization Reference's descriptions of the
// keys say which parameter each one reports).
func inputKeyField(key string) string {
	switch key {
	case "iam:PolicyARN":
		return "PolicyArn"
	case "iam:AWSServiceName":
		return "AWSServiceName"
	case "iam:OrganizationsPolicyId":
		return "OrganizationsPolicyId"
	case "iam:ServiceSpecificCredentialServiceName":
		return "ServiceName"
	case "iam:ServiceSpecificCredentialAgeDays":
		return "CredentialAgeDays"
	case "sts:ExternalId":
		return "ExternalId"
	case "sts:RoleSessionName":
		return "RoleSessionName"
	case "sts:SourceIdentity":
		return "SourceIdentity"
	case "sts:TransitiveTagKeys":
		return "TransitiveTagKeys"
	case "sts:DurationSeconds":
		return "DurationSeconds"
	case "sts:TaskPolicyArn":
		return "TaskPolicyArn"
	case "sts:IdentityTokenAudience":
		return "Audience"
	case "sts:SigningAlgorithm":
		return "SigningAlgorithm"
	}
	return ""
}

// actionKeys are the values of the action-level condition keys the reference lists for the
// action, from the request's parameters and the target.
func actionKeys(keys []string, in input, t *target) []enforce.ContextKey {
	var out []enforce.ContextKey
	for _, k := range keys {
		switch k {
		case "aws:RequestTag/${TagKey}":
			tk, tv := in.tags("Tags")
			for i := range tk {
				out = append(out, enforce.ContextKey{Name: "aws:RequestTag/" + tk[i], Values: []string{tv[i]}})
			}
		case "aws:TagKeys":
			if tk, _ := in.tags("Tags"); tk != nil {
				out = append(out, enforce.ContextKey{Name: k, Values: tk, Multi: true})
			} else if vals, _, ok := in.values("TagKeys"); ok {
				out = append(out, enforce.ContextKey{Name: k, Values: vals, Multi: true})
			}
		case "iam:PermissionsBoundary":
			// The boundary the request sets (CreateUser, PutUserPermissionsBoundary, ...), else
			// the one the entity has (AttachUserPolicy, DeleteRolePermissionsBoundary, ...).
			b := in.str("PermissionsBoundary")
			if b == "" && t != nil {
				b = t.boundary
			}
			if b != "" {
				out = append(out, enforce.ContextKey{Name: k, Values: []string{b}})
			}
		case "iam:ResourceTag/${TagKey}", "aws:ResourceTag/${TagKey}":
			if t == nil {
				continue
			}
			prefix := strings.TrimSuffix(k, "${TagKey}")
			for _, tag := range t.tags {
				out = append(out, enforce.ContextKey{Name: prefix + tag.Key, Values: []string{tag.Value}})
			}
		default:
			if f := inputKeyField(k); f != "" {
				if vals, multi, ok := in.values(f); ok {
					out = append(out, enforce.ContextKey{Name: k, Values: vals, Multi: multi})
				} else if k == "iam:ServiceSpecificCredentialServiceName" && t != nil && t.credentialService != "" {
					out = append(out, enforce.ContextKey{Name: k, Values: []string{t.credentialService}})
				}
			}
		}
	}
	return out
}

// findTarget finds the resource the input of action names: its ARN (with the entity's real
// path when it exists), tags and boundary. A resource that does not exist is authorized by
// the ARN the request names, as AWS does, so the answer is AccessDenied rather than
// NoSuchEntity for a caller without permission.
func (s *Service) findTarget(ctx context.Context, p *principal.Principal, action string, in input) (*target, error) {
	account := p.Account
	switch action {
	// Operations that create their resource: the ARN it will have.
	case "iam:CreateUser":
		return &target{typ: "user", arn: entity.ARN(account, "user", pathOf(in, "Path"), in.str("UserName"))}, nil
	case "iam:CreateGroup":
		return &target{typ: "group", arn: entity.ARN(account, "group", pathOf(in, "Path"), in.str("GroupName"))}, nil
	case "iam:CreateRole":
		return &target{typ: "role", arn: entity.ARN(account, "role", pathOf(in, "Path"), in.str("RoleName"))}, nil
	case "iam:CreatePolicy":
		return &target{typ: "policy", arn: entity.ARN(account, "policy", pathOf(in, "Path"), in.str("PolicyName"))}, nil
	case "iam:CreateInstanceProfile":
		return &target{typ: "instance-profile", arn: entity.ARN(account, "instance-profile", pathOf(in, "Path"), in.str("InstanceProfileName"))}, nil
	case "iam:UploadServerCertificate":
		return &target{typ: "server-certificate", arn: entity.ARN(account, "server-certificate", pathOf(in, "Path"), in.str("ServerCertificateName"))}, nil
	case "iam:CreateVirtualMFADevice":
		return &target{typ: "mfa", arn: entity.ARN(account, "mfa", pathOf(in, "Path"), in.str("VirtualMFADeviceName"))}, nil
	case "iam:CreateOpenIDConnectProvider":
		u := in.str("Url")
		u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
		return &target{typ: "oidc-provider", arn: entity.ARN(account, "oidc-provider/", "", strings.TrimSuffix(u, "/"))}, nil
	case "iam:CreateSAMLProvider":
		return &target{typ: "saml-provider", arn: entity.ARN(account, "saml-provider/", "", in.str("Name"))}, nil
	case "iam:CreateServiceLinkedRole":
		svc := in.str("AWSServiceName")
		return &target{typ: "role", arn: entity.ARN(account, "role", "/aws-service-role/"+svc+"/", serviceLinkedRoleName(svc, in.str("CustomSuffix")))}, nil

	// Operations whose resource is named by something other than its name.
	case "iam:GetAccessKeyLastUsed":
		return s.keyOwnerTarget(ctx, p, in.str("AccessKeyId"))
	case "iam:DeleteServiceSpecificCredential", "iam:ResetServiceSpecificCredential", "iam:UpdateServiceSpecificCredential":
		return s.serviceCredentialTarget(ctx, p, in)
	case "iam:GenerateServiceLastAccessedDetails", "iam:ListPoliciesGrantingServiceAccess":
		return s.arnTarget(ctx, p, in.str("Arn"))
	case "iam:GetContextKeysForPrincipalPolicy", "iam:SimulatePrincipalPolicy":
		return s.arnTarget(ctx, p, in.str("PolicySourceArn"))
	case "iam:GetHumanReadableSummary":
		return &target{typ: "delegation-request", arn: in.str("EntityArn")}, nil
	case "iam:GetServiceLinkedRoleDeletionStatus":
		// The task id is task/aws-service-role/SERVICE/ROLE/ID.
		parts := strings.Split(in.str("DeletionTaskId"), "/")
		if len(parts) >= 4 {
			return &target{typ: "role", arn: entity.ARN(account, "role", "/"+strings.Join(parts[1:len(parts)-2], "/")+"/", parts[len(parts)-2])}, nil
		}
		return &target{typ: "role", arn: entity.ARN(account, "role", "/", "*")}, nil
	case "iam:GenerateOrganizationsAccessReport":
		return &target{typ: "access-report", arn: entity.ARN(account, "access-report/", "", in.str("EntityPath"))}, nil
	case "sts:GetFederationToken":
		return &target{typ: "federated-user", arn: "arn:aws:sts::" + account + ":federated-user/" + in.str("Name")}, nil
	case "sts:AssumeRoot":
		return &target{typ: "root-user", arn: "arn:aws:iam::" + in.str("TargetPrincipal") + ":root"}, nil
	}

	// Every other operation names an entity of its first resource type.
	ref := s.guard.op(action).ref
	typ := ref.Resources[0].Type
	var t *target
	var err error
	switch typ {
	case "user":
		name := in.str("UserName")
		if name == "" {
			// An omitted UserName means the caller (GetUser, ListAccessKeys, ChangePassword...).
			return s.callerTarget(ctx, p)
		}
		t, err = s.namedTarget(ctx, account, store.KindUser, "user", name)
	case "group":
		t, err = s.namedTarget(ctx, account, store.KindGroup, "group", in.str("GroupName"))
	case "role":
		t, err = s.namedTarget(ctx, account, store.KindRole, "role", in.str("RoleName"))
	case "policy":
		if t, err = s.arnTarget(ctx, p, in.str("PolicyArn")); err == nil {
			t.display = "policy " + t.arn
		}
		return t, err
	case "oidc-provider":
		return s.arnTarget(ctx, p, in.str("OpenIDConnectProviderArn"))
	case "saml-provider":
		return s.arnTarget(ctx, p, in.str("SAMLProviderArn"))
	case "mfa", "sms-mfa":
		return s.arnTarget(ctx, p, in.str("SerialNumber"))
	case "instance-profile":
		name := in.str("InstanceProfileName")
		if t, err = s.namedTarget(ctx, account, store.KindInstanceProfile, typ, name); err == nil {
			t.display = "instance profile " + name // AWS: "on resource: instance profile NAME"
		}
	case "server-certificate":
		// Its ARN has its path, and its tags are aws:ResourceTag; messages name it by ARN.
		if t, err = s.namedTarget(ctx, account, store.KindServerCertificate, typ, in.str("ServerCertificateName")); err == nil {
			t.display = ""
		}
	case "delegation-request":
		t = &target{typ: typ, arn: entity.ARN(account, "delegation-request/", "", in.str("DelegationRequestId"))}
	default:
		t = &target{typ: typ, arn: "*"}
	}
	if err != nil {
		return nil, err
	}
	t.newARN, t.newDisplay = renamed(t, in)
	return t, nil
}

// renamed returns the ARN a rename gives the target and how messages name it, or "" when the
// request renames nothing.
func renamed(t *target, in input) (string, string) {
	var newName string
	switch t.typ {
	case "user":
		newName = in.str("NewUserName")
	case "group":
		newName = in.str("NewGroupName")
	case "server-certificate":
		newName = in.str("NewServerCertificateName")
	default:
		return "", ""
	}
	newPath := in.str("NewPath")
	if newName == "" && newPath == "" {
		return "", ""
	}
	i := strings.Index(t.arn, ":"+t.typ+"/")
	if i < 0 {
		return "", ""
	}
	prefix, rest := t.arn[:i+len(t.typ)+2], t.arn[i+len(t.typ)+2:]
	slash := strings.LastIndex(rest, "/")
	path, name := "/"+rest[:slash+1], rest[slash+1:]
	if newName != "" {
		name = newName
	}
	if newPath != "" {
		path = newPath
	}
	display := ""
	if t.display != "" {
		display = t.typ + " " + name
	}
	return prefix + strings.TrimPrefix(path, "/") + name, display
}

// pathOf reads an optional IAM path parameter, "/" when absent.
func pathOf(in input, field string) string {
	if p := in.str(field); p != "" {
		return p
	}
	return "/"
}

// namedTarget loads the entity of kind named name in account. A missing entity is still a
// target, at the root path with no tags.
func (s *Service) namedTarget(ctx context.Context, account string, kind store.Kind, typ, name string) (*target, error) {
	key := string(kind) + "\x00" + account + "\x00" + store.NameKey(name)
	now, epoch := s.now(), s.enforcer.Epoch()
	if t, ok := s.guard.targets.Get(key, epoch, now); ok {
		c := *t
		if t.arn == "" {
			c.arn = entity.ARN(account, typ, "/", name) // cached as missing: the name as asked
		}
		c.display = typ + " " + name
		return &c, nil
	}
	t := &target{typ: typ, arn: entity.ARN(account, typ, "/", name), display: typ + " " + name}
	found := false
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		rec, err := tx.Get(ctx, kind, account, store.NameKey(name))
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return s.fillTarget(t, rec, typ)
	})
	if err != nil {
		return nil, err
	}
	cached := *t
	if !found {
		cached.arn = ""
	}
	s.guard.targets.Put(key, &cached, epoch, now)
	return t, nil
}

// fillTarget reads rec's path, tags and boundary into t.
func (s *Service) fillTarget(t *target, rec store.Record, typ string) error {
	var m store.Meta
	if err := json.Unmarshal(rec.Data, &m); err != nil {
		return err
	}
	if m.Name != "" {
		path := m.Path
		if path == "" {
			path = "/"
		}
		t.arn = entity.ARN(rec.Account, typ, path, m.Name)
	}
	t.tags, t.boundary = m.Tags, m.Boundary
	return nil
}

// callerTarget is the calling user itself, for operations whose UserName defaults to it.
func (s *Service) callerTarget(ctx context.Context, p *principal.Principal) (*target, error) {
	t := &target{typ: "user", arn: p.ARN}
	if p.Type != principal.User {
		return t, nil
	}
	t.display = "user " + p.UserName
	var err error
	if t.tags, t.boundary, err = s.enforcer.CallerUser(ctx, p); err != nil {
		return nil, err
	}
	return t, nil
}

// serviceCredentialTarget is the user a request on a service-specific credential names (or the
// caller), with the service of the credential when it is that user's: the request names only
// the credential's id.
func (s *Service) serviceCredentialTarget(ctx context.Context, p *principal.Principal, in input) (*target, error) {
	var t *target
	var err error
	if name := in.str("UserName"); name != "" {
		t, err = s.namedTarget(ctx, p.Account, store.KindUser, "user", name)
	} else {
		t, err = s.callerTarget(ctx, p)
	}
	if err != nil {
		return nil, err
	}
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		c, rec, err := store.LoadByID[store.ServiceCredential](ctx, tx, store.KindServiceCredential, in.str("ServiceSpecificCredentialId"))
		if isNotFound(err) || (err == nil && rec.Account != p.Account) {
			return nil
		}
		if err != nil {
			return err
		}
		u, _, err := store.LoadByID[store.User](ctx, tx, store.KindUser, c.UserID)
		if err != nil {
			return err
		}
		if entity.UserARN(p.Account, u) == t.arn {
			t.credentialService = c.ServiceName
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// keyOwnerTarget is the user who owns an access key (GetAccessKeyLastUsed).
func (s *Service) keyOwnerTarget(ctx context.Context, p *principal.Principal, keyID string) (*target, error) {
	t := &target{typ: "user", arn: "*"}
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		key, rec, err := store.LoadByID[store.AccessKey](ctx, tx, store.KindAccessKey, keyID)
		if isNotFound(err) || (err == nil && rec.Account != p.Account) {
			return nil
		}
		if err != nil {
			return err
		}
		if key.OwnerID == rec.Account {
			t.arn = "arn:aws:iam::" + rec.Account + ":root"
			return nil
		}
		urec, err := tx.GetByID(ctx, store.KindUser, key.OwnerID)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.fillTarget(t, urec, "user"); err != nil {
			return err
		}
		t.display = "user " + t.arn[strings.LastIndex(t.arn, "/")+1:]
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// arnTarget is the IAM resource an ARN parameter names (a policy, user, group, role, identity
// provider or MFA device), with its tags when it is in the caller's account. The ARN is used
// as given: an ARN that names nothing is still what the caller asked for.
func (s *Service) arnTarget(ctx context.Context, p *principal.Principal, resARN string) (*target, error) {
	t := &target{arn: resARN}
	rest, ok := strings.CutPrefix(resARN, "arn:aws:iam::")
	if !ok {
		t.typ = "policy"
		return t, nil
	}
	account, resource, _ := strings.Cut(rest, ":")
	typ, name, _ := strings.Cut(resource, "/")
	t.typ = typ
	if account != p.Account {
		return t, nil
	}
	var kind store.Kind
	var key string
	byID := false
	switch typ {
	case "user", "group", "role", "policy":
		kind = store.Kind(typ) // the store's kinds of these entities bear the resource type's name
		key = store.NameKey(name[strings.LastIndex(name, "/")+1:])
	case "oidc-provider":
		kind, key = store.KindOIDCProvider, strings.ToLower(name)
	case "saml-provider":
		kind, key = store.KindSAMLProvider, strings.ToLower(name)
	case "mfa":
		kind, key, byID = store.KindMFADevice, resARN, true
	default:
		return t, nil
	}
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		var rec store.Record
		var err error
		if byID {
			rec, err = tx.GetByID(ctx, kind, key)
		} else {
			rec, err = tx.Get(ctx, kind, account, key)
		}
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		var m store.Meta
		if err := json.Unmarshal(rec.Data, &m); err != nil {
			return err
		}
		if (typ == "user" || typ == "group" || typ == "role" || typ == "policy") && entity.ARN(account, typ, orRoot(m.Path), m.Name) != resARN {
			// Names compare without case, but an ARN must spell the entity exactly.
			return nil
		}
		t.tags, t.boundary = m.Tags, m.Boundary
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func orRoot(path string) string {
	if path == "" {
		return "/"
	}
	return path
}
