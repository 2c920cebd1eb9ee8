// Package enforce is the one enforcement path of Gatehouse: it turns an authenticated request
// into a decision. It looks up access keys (credentials.go) and checks that a session's user
// or role still exists, gathers the identity, group, boundary, session and resource policies
// that apply to the caller (gather.go), builds the request's condition keys and runs AWS's
// evaluation logic, answering AccessDenied with AWS's message (authorize.go). Its caches
// (cache.go) are invalidated by every committed IAM write of this process (Invalidate) and,
// across a fleet, by the change watcher (DropCaches).
//
// The server asks it before a handler runs; the IAM handlers map an operation's input to the
// Access values it needs (internal/iam AuthorizeOperation) and STS asks it about the checks its
// operations make themselves. It reads the store through the helpers of internal/store and
// internal/entity and never imports internal/iam.
package enforce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Enforcer decides requests over one store. It is safe for concurrent use.
type Enforcer struct {
	store  store.Store
	box    *secret.Box // opens access key secrets
	now    func() time.Time
	logger *slog.Logger
	creds  credCache
	// grants caches each caller's grants, keyed by the access key that signed (so a session's
	// own policies are cached with it).
	grants EpochCache[*grants]
	// resourcePolicies caches the stored policies of protected services' resources.
	resourcePolicies EpochCache[*authz.Policies]
	docs             docCache
	// denials seals AccessDenied details for DecodeAuthorizationMessage; nil leaves them out.
	denials DenialEncoder
	// reported are the caches of others that CacheStats reports (ReportCache).
	reported []reportedCache
}

// New returns an Enforcer over st; access key secrets are opened with box.
func New(st store.Store, box *secret.Box, now func() time.Time, logger *slog.Logger) *Enforcer {
	return &Enforcer{store: st, box: box, now: now, logger: logger}
}

// WithDenialEncoder makes AccessDenied answers carry messages sealed by d. It is part of
// construction: call it before the enforcer serves requests.
func (e *Enforcer) WithDenialEncoder(d DenialEncoder) *Enforcer {
	e.denials = d
	return e
}

// Invalidate marks every cached credential, grant and authorization target stale after a
// write of this process committed; newEntityOnly says the write only created a user, group or
// role, which leaves credentials and grants as they were (targets are stale either way).
func (e *Enforcer) Invalidate(newEntityOnly bool) { e.creds.invalidate(newEntityOnly) }

// DropCaches makes every cached credential, grant and authorization target stale, for a write
// committed by another node of the fleet (the app's change watcher calls it).
func (e *Enforcer) DropCaches() { e.creds.invalidate(false) }

// Epoch counts the committed writes of this process (Invalidate, DropCaches): an EpochCache
// entry read at an older epoch is stale. IAM's authorization targets are cached by it.
func (e *Enforcer) Epoch() uint64 { return e.creds.epoch.Load() }

// view runs fn in a read transaction, turning store failures into AWS errors as the IAM
// handlers do (ServiceError).
func (e *Enforcer) view(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	return ServiceError(ctx, e.logger, "iam operation failed", e.store.View(ctx, fn))
}

// ServiceError passes AWS errors (and nil) through and answers everything else, logged under
// msg, as AWS's ServiceFailure (500), or ServiceUnavailable (503, which clients retry) when the
// store cannot be reached. The cause is logged, never sent: store errors carry keys, not data.
func ServiceError(ctx context.Context, logger *slog.Logger, msg string, err error) error {
	if err == nil || awsquery.AsError(err) != nil {
		return err
	}
	logger.ErrorContext(ctx, msg, slog.String("error", err.Error()))
	if errors.Is(err, store.ErrUnavailable) {
		return fmt.Errorf("%w (%w)", awsquery.ServiceUnavailable(), err)
	}
	return fmt.Errorf("%w (%w)", awsquery.Internal(), err)
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
