// Package iam implements the IAM API operations: one typed handler per operation, each doing
// validation and a store transaction. Authorization maps each operation's input to the
// questions it asks (AuthorizeOperation, authorize_table.go, authorize_target.go) and leaves
// deciding them to internal/enforce. Handlers take aws-sdk-go-v2 input shapes and return its
// output shapes; the protocol layer (awsquery) turns them into XML.
package iam

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Service holds the dependencies of the IAM handlers.
type Service struct {
	store  store.Store
	box    *secret.Box
	now    func() time.Time
	ids    IDSource
	logger *slog.Logger
	// enforcer decides the Access values operations need; every committed write invalidates
	// its caches.
	enforcer *enforce.Enforcer
	guard    *guard // authorization: the reference and the targets cache (authorize.go)
	// users caches GetUser's answers, under the enforcer's epochs (users.go).
	users enforce.EpochCache[*types.User]
	// passwords hashes console passwords and limits failed attempts (passwords.go).
	passwords *passwordGuard
	// events is the audit trail the last accessed reports read (last_accessed.go).
	events store.EventLog
}

// New returns the IAM service over st; secrets are sealed with box. Authorization asks enf,
// over the same store, whose caches the service's writes invalidate.
func New(st store.Store, box *secret.Box, now func() time.Time, ids IDSource, logger *slog.Logger, enf *enforce.Enforcer) *Service {
	s := &Service{store: st, box: box, now: now, ids: ids, logger: logger, enforcer: enf, guard: newGuard(), passwords: newPasswordGuard()}
	enf.ReportCache("targets", &s.guard.targets)
	enf.ReportCache("users", &s.users)
	return s
}

// Register adds every implemented IAM operation to svc.
func (s *Service) Register(svc *awsquery.Service) error {
	var ops []operation
	for _, group := range [][]operation{
		s.userOperations(),
		s.groupOperations(),
		s.accessKeyOperations(),
		s.roleOperations(),
		s.policyOperations(),
		s.inlinePolicyOperations(),
		s.tagOperations(),
		s.oidcOperations(),
		s.samlOperations(),
		s.mfaOperations(),
		s.loginProfileOperations(),
		s.passwordPolicyOperations(),
		s.simulateOperations(),
		s.simulatePrincipalOperations(),
		s.serverCertificateOperations(),
		s.signingCertificateOperations(),
		s.sshPublicKeyOperations(),
		s.serviceCredentialOperations(),
		s.organizationOperations(),
		s.instanceProfileOperations(),
		s.serviceLinkedRoleOperations(),
		s.accountAliasOperations(),
		s.accountSummaryOperations(),
		s.credentialReportOperations(),
		s.lastAccessedOperations(),
		s.authorizationDetailsOperations(),
		s.policiesGrantingOperations(),
	} {
		ops = append(ops, group...)
	}
	for _, op := range ops {
		if err := svc.Register(op.name, op.h); err != nil {
			return err
		}
	}
	return declineUnsupported(svc)
}

// now returns the service clock truncated to seconds, as IAM reports times.
func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Second) }

// update runs fn in a write transaction, turning store failures into AWS errors.
// Every committed write invalidates the enforcer's caches: it may have changed a key or its owner.
func (s *Service) update(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	return s.write(ctx, false, fn)
}

// create is update for a write that only adds a new user, group or role: no existing
// principal's credentials or grants change, so those caches stay valid.
func (s *Service) create(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	return s.write(ctx, true, fn)
}

func (s *Service) write(ctx context.Context, newEntityOnly bool, fn func(ctx context.Context, tx store.Tx) error) error {
	err := s.store.Update(ctx, fn)
	if err == nil {
		s.enforcer.Invalidate(newEntityOnly)
	}
	return s.internal(ctx, err)
}

// view runs fn in a read transaction, turning store failures into AWS errors.
func (s *Service) view(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	return s.internal(ctx, s.store.View(ctx, fn))
}

// internal answers failures that are not AWS errors as enforce.ServiceError does.
func (s *Service) internal(ctx context.Context, err error) error {
	return enforce.ServiceError(ctx, s.logger, "iam operation failed", err)
}
