package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// The store kinds of the console. Both have Account "" and Key the hex SHA-256 of the token
// the browser holds (the session cookie, the MFA step's form field), never the token.
const (
	// KindSession is a console session; Data a storedSession.
	KindSession store.Kind = "console-session"
	// KindPendingSignIn is a sign-in waiting for its MFA code; Data a storedPending.
	KindPendingSignIn store.Kind = "console-pending-sign-in"
)

// seenEvery is how stale a session's stored last-seen time may get before a request writes
// it again: at most one write a minute per session, instead of one per page view. The idle
// limit is then exact to a minute: a session ends after between Idle minus a minute and Idle
// without requests, never later.
const seenEvery = time.Minute

// sweepBatch is how many records of each kind a sign-in looks at for expired ones to delete.
//
// A sign-in adds at most one record of a kind and looks at sweepBatch records from a random key
// on (wrapping around), deleting those that ended. The keys are hashes, so that window is a
// uniform sample: while a fraction f of a kind's records is expired, a sign-in deletes about
// sweepBatch×f of them, and expired records stop accumulating at about 1/sweepBatch of the
// kind (live/(sweepBatch-1) expired records beside the live ones). A session or pending
// sign-in read after its end is deleted at once, too.
const sweepBatch = 32

// storedSession is the body of a KindSession record: the times the limits need (and the
// sweep reads) in the clear, the rest (a consoleSession as JSON) sealed.
type storedSession struct {
	Created time.Time `json:"created"`
	Seen    time.Time `json:"seen"`
	Expires time.Time `json:"expires"` // the session's credentials expire
	Sealed  []byte    `json:"sealed"`
}

// storedPending is the body of a KindPendingSignIn record; Sealed is a pendingSignIn as JSON.
type storedPending struct {
	Expires time.Time `json:"expires"`
	Sealed  []byte    `json:"sealed"`
}

// sessionContext and pendingContext bind a sealed body to its record's key, so that a body
// copied onto another record (one whose key is the hash of a token someone holds) does not
// open.
func sessionContext(key string) []byte { return []byte("console-session/" + key) }
func pendingContext(key string) []byte { return []byte("console-pending-sign-in/" + key) }

func (st storedSession) expired(now time.Time, lim Limits) bool {
	return now.Sub(st.Seen) > lim.Idle || now.Sub(st.Created) > lim.Absolute || !now.Before(st.Expires)
}

func (s *sessions) sealSession(cs *consoleSession) (store.Record, error) {
	plain, err := json.Marshal(cs)
	if err != nil {
		return store.Record{}, fmt.Errorf("console: encode session: %w", err)
	}
	sealed, err := s.box.Seal(plain, sessionContext(cs.key))
	if err != nil {
		return store.Record{}, fmt.Errorf("console: seal session: %w", err)
	}
	st := storedSession{Created: cs.Created, Seen: cs.Seen, Expires: cs.Creds.Expiration, Sealed: sealed}
	return store.Record{Kind: KindSession, Key: cs.key, Data: store.Encode(st)}, nil
}

func (s *sessions) openSession(key string, st storedSession) (*consoleSession, error) {
	plain, err := s.box.Open(st.Sealed, sessionContext(key))
	if err != nil {
		return nil, fmt.Errorf("console: open session: %w", err)
	}
	var cs consoleSession
	if err := json.Unmarshal(plain, &cs); err != nil {
		return nil, fmt.Errorf("console: decode session: %w", err)
	}
	cs.key, cs.Created, cs.Seen = key, st.Created, st.Seen
	return &cs, nil
}

// add stores cs under a new token and returns the token, then sweeps.
func (s *sessions) add(ctx context.Context, cs *consoleSession) (string, error) {
	token := randomToken()
	cs.key = key(token)
	rec, err := s.sealSession(cs)
	if err != nil {
		return "", err
	}
	if err := s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.Insert(ctx, rec) }); err != nil {
		return "", fmt.Errorf("console: store session: %w", err)
	}
	s.sweep(ctx)
	return token, nil
}

// get returns the live session of token, or nil when there is none or it is past its idle or
// absolute limit (then its record is deleted). An error means the store could not be read.
func (s *sessions) get(ctx context.Context, token string) (*consoleSession, error) {
	if token == "" {
		return nil, nil
	}
	k, now := key(token), s.now()
	var rec store.Record
	err := s.store.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		rec, err = tx.Get(ctx, KindSession, "", k)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("console: read session: %w", err)
	}
	var st storedSession
	if err := store.Decode(rec, &st); err != nil {
		s.logger.ErrorContext(ctx, "console: unreadable session deleted", "error", err)
		s.delete(ctx, KindSession, k)
		return nil, nil
	}
	if st.expired(now, s.lim) {
		s.delete(ctx, KindSession, k)
		return nil, nil
	}
	cs, err := s.openSession(k, st)
	if err != nil {
		// Not deleted: a node with a wrong master key must not sign everyone out.
		s.logger.ErrorContext(ctx, "console: session does not open", "error", err)
		return nil, nil
	}
	if now.Sub(st.Seen) >= seenEvery {
		switch err := s.touch(ctx, k, now); {
		case errors.Is(err, store.ErrNotFound):
			return nil, nil // signed out meanwhile
		case err != nil:
			// The request goes on; the idle limit counts from the last time that was written.
			s.logger.WarnContext(ctx, "console: session last-seen time not written", "error", err)
		default:
			cs.Seen = now
		}
	}
	return cs, nil
}

// touch writes the session's last-seen time, keeping its sealed body.
func (s *sessions) touch(ctx context.Context, k string, now time.Time) error {
	return s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		rec, err := tx.Get(ctx, KindSession, "", k)
		if err != nil {
			return err
		}
		var st storedSession
		if err := store.Decode(rec, &st); err != nil {
			return err
		}
		if !now.After(st.Seen) {
			return nil
		}
		st.Seen = now
		rec.Data = store.Encode(st)
		return tx.Replace(ctx, rec)
	})
}

// remove deletes the session of token, on every node at once.
func (s *sessions) remove(ctx context.Context, token string) error {
	k := key(token)
	err := s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.Delete(ctx, KindSession, "", k) })
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("console: delete session: %w", err)
	}
	return nil
}

// delete deletes a record found ended; a failure is logged, as the next reader retries.
func (s *sessions) delete(ctx context.Context, kind store.Kind, k string) {
	err := s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.Delete(ctx, kind, "", k) })
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.logger.WarnContext(ctx, "console: delete ended record", "kind", string(kind), "error", err)
	}
}

// change applies fn to the stored session of cs in one transaction, so concurrent requests of
// the session (on any node) do not undo each other's changes, and then updates cs to the
// result. fn reports whether it changed anything; when not, nothing is written. The error is
// store.ErrNotFound (wrapped) when the session ended meanwhile.
func (s *sessions) change(ctx context.Context, cs *consoleSession, fn func(cur *consoleSession) bool) error {
	var cur *consoleSession
	err := s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		rec, err := tx.Get(ctx, KindSession, "", cs.key)
		if err != nil {
			return err
		}
		var st storedSession
		if err := store.Decode(rec, &st); err != nil {
			return err
		}
		if cur, err = s.openSession(cs.key, st); err != nil {
			return err
		}
		if !fn(cur) {
			return nil
		}
		next, err := s.sealSession(cur)
		if err != nil {
			return err
		}
		return tx.Replace(ctx, next)
	})
	if err != nil {
		return fmt.Errorf("console: change session: %w", err)
	}
	*cs = *cur
	return nil
}

// changed is change for the changes whose failure the page survives: it is logged.
func (s *sessions) changed(ctx context.Context, cs *consoleSession, what string, fn func(cur *consoleSession) bool) bool {
	err := s.change(ctx, cs, fn)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.logger.InfoContext(ctx, "console: session ended before a change", "change", what)
	case err != nil:
		s.logger.ErrorContext(ctx, "console: session change not stored", "change", what, "error", err)
	}
	return err == nil
}

func (s *sessions) passwordChanged(ctx context.Context, cs *consoleSession) {
	s.changed(ctx, cs, "password changed", func(cur *consoleSession) bool {
		cur.MustChangePassword = false
		return true
	})
}

// stashKey keeps a new access key's secret for one CSV download.
func (s *sessions) stashKey(ctx context.Context, cs *consoleSession, k *newKey) {
	s.changed(ctx, cs, "new key", func(cur *consoleSession) bool {
		cur.NewKey = k
		return true
	})
}

// showKey returns the stashed key of user the first time it is asked for, so its page shows
// the secret once, as AWS's console does; the key stays for its one CSV download.
func (s *sessions) showKey(ctx context.Context, cs *consoleSession, user string) *newKey {
	if k := cs.NewKey; k == nil || k.Shown || k.UserName != user {
		return nil // the common case, without a write
	}
	var shown *newKey
	s.changed(ctx, cs, "key shown", func(cur *consoleSession) bool {
		k := cur.NewKey
		if k == nil || k.Shown || k.UserName != user {
			return false
		}
		k.Shown = true
		shown = &newKey{ID: k.ID, Secret: k.Secret, UserName: k.UserName}
		return true
	})
	return shown
}

// takeKey returns the stashed key and forgets it: the CSV is downloaded once, on any node.
func (s *sessions) takeKey(ctx context.Context, cs *consoleSession) (*newKey, error) {
	if cs.NewKey == nil {
		return nil, nil
	}
	var taken *newKey
	err := s.change(ctx, cs, func(cur *consoleSession) bool {
		taken, cur.NewKey = cur.NewKey, nil
		return taken != nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return taken, err
}

func (s *sessions) setAlias(ctx context.Context, cs *consoleSession, alias string) {
	s.changed(ctx, cs, "alias", func(cur *consoleSession) bool {
		cur.Alias = alias
		return true
	})
}

func (s *sessions) setRole(ctx context.Context, cs *consoleSession, r *roleSession) {
	s.changed(ctx, cs, "role", func(cur *consoleSession) bool {
		cur.Role = r
		return true
	})
}

func (s *sessions) setFlash(ctx context.Context, cs *consoleSession, msg string) {
	if msg == "" && cs.Flash == "" {
		return // nothing to clear: no write
	}
	s.changed(ctx, cs, "message", func(cur *consoleSession) bool {
		cur.Flash = msg
		return true
	})
}

// takeFlash returns the message of the last change and forgets it; a page without one costs
// no write.
func (s *sessions) takeFlash(ctx context.Context, cs *consoleSession) string {
	if cs.Flash == "" {
		return ""
	}
	var msg string
	s.changed(ctx, cs, "message shown", func(cur *consoleSession) bool {
		msg, cur.Flash = cur.Flash, ""
		return msg != ""
	})
	return msg
}

// addPending stores p under a new token and returns the token, then sweeps.
func (s *sessions) addPending(ctx context.Context, p *pendingSignIn) (string, error) {
	token := randomToken()
	k := key(token)
	plain, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("console: encode pending sign-in: %w", err)
	}
	sealed, err := s.box.Seal(plain, pendingContext(k))
	if err != nil {
		return "", fmt.Errorf("console: seal pending sign-in: %w", err)
	}
	rec := store.Record{Kind: KindPendingSignIn, Key: k, Data: store.Encode(storedPending{Expires: p.Expires, Sealed: sealed})}
	if err := s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.Insert(ctx, rec) }); err != nil {
		return "", fmt.Errorf("console: store pending sign-in: %w", err)
	}
	s.sweep(ctx)
	return token, nil
}

// takePending returns and deletes the pending sign-in of token; nil when unknown or expired.
// Deleting is what takes it, so two nodes given the same token never both get it.
func (s *sessions) takePending(ctx context.Context, token string) (*pendingSignIn, error) {
	if token == "" {
		return nil, nil
	}
	k := key(token)
	var rec store.Record
	err := s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if rec, err = tx.Get(ctx, KindPendingSignIn, "", k); err != nil {
			return err
		}
		return tx.Delete(ctx, KindPendingSignIn, "", k)
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("console: take pending sign-in: %w", err)
	}
	var st storedPending
	if err := store.Decode(rec, &st); err != nil {
		s.logger.ErrorContext(ctx, "console: unreadable pending sign-in", "error", err)
		return nil, nil
	}
	if s.now().After(st.Expires) {
		return nil, nil
	}
	plain, err := s.box.Open(st.Sealed, pendingContext(k))
	if err != nil {
		s.logger.ErrorContext(ctx, "console: pending sign-in does not open", "error", err)
		return nil, nil
	}
	var p pendingSignIn
	if err := json.Unmarshal(plain, &p); err != nil {
		s.logger.ErrorContext(ctx, "console: unreadable pending sign-in", "error", err)
		return nil, nil
	}
	p.Expires = st.Expires
	return &p, nil
}

// sweep deletes up to sweepBatch ended sessions and as many ended pending sign-ins (see
// sweepBatch). It runs at each sign-in; a failure is logged, as the next sign-in sweeps again.
func (s *sessions) sweep(ctx context.Context) {
	now := s.now()
	s.sweepKind(ctx, KindSession, func(rec store.Record) bool {
		var st storedSession
		return store.Decode(rec, &st) != nil || st.expired(now, s.lim)
	})
	s.sweepKind(ctx, KindPendingSignIn, func(rec store.Record) bool {
		var st storedPending
		return store.Decode(rec, &st) != nil || now.After(st.Expires)
	})
}

func (s *sessions) sweepKind(ctx context.Context, kind store.Kind, ended func(store.Record) bool) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	start := hex.EncodeToString(b)
	// Look first in a read, so that a sign-in that finds nothing ended writes nothing.
	var keys []string
	err := s.store.View(ctx, func(ctx context.Context, tx store.Tx) error {
		recs, err := tx.List(ctx, kind, "", store.Query{After: start, Limit: sweepBatch})
		if err != nil {
			return err
		}
		if n := sweepBatch - len(recs); n > 0 { // wrap around to the first keys
			head, err := tx.List(ctx, kind, "", store.Query{Limit: n})
			if err != nil {
				return err
			}
			for _, r := range head {
				if r.Key > start {
					break // already seen
				}
				recs = append(recs, r)
			}
		}
		for _, r := range recs {
			if ended(r) {
				keys = append(keys, r.Key)
			}
		}
		return nil
	})
	if err == nil && len(keys) > 0 {
		err = s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			for _, k := range keys {
				rec, err := tx.Get(ctx, kind, "", k)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if !ended(rec) { // touched by a request meanwhile
					continue
				}
				if err := tx.Delete(ctx, kind, "", k); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		s.logger.WarnContext(ctx, "console: sweep ended records", "kind", string(kind), "error", err)
	}
}
