package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

var _ store.EventLog = (*Store)(nil)

// The statements of the audit trail. They run on the pool, in transactions of their own that
// neither lock nor count in the changes row: the trail is not a change any node caches.
const (
	// sqlInsertEvents stores a batch of events, given column by column ($1..$10), and the
	// attribute rows ($11..$15) of those it stored (not of those already stored), in one
	// statement.
	sqlInsertEvents = `WITH ins AS (
		INSERT INTO events (account, time, id, name, source, username, access_key_id, read_only, resources, data)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::boolean[], $9::text[], $10::bytea[])
		ON CONFLICT DO NOTHING RETURNING id)
	INSERT INTO event_attributes (account, attr, value, time, event_id)
	SELECT a.account, a.attr, a.value, a.time, a.event_id
	FROM unnest($11::text[], $12::text[], $13::text[], $14::bigint[], $15::text[]) AS a(account, attr, value, time, event_id)
	JOIN ins ON ins.id = a.event_id
	ON CONFLICT DO NOTHING`
	sqlDeleteEvents    = `DELETE FROM events WHERE time < $1`
	sqlDeleteEventAttr = `DELETE FROM event_attributes WHERE time < $1`
	eventColumns       = `e.id, e.account, e.time, e.name, e.source, e.username, e.access_key_id, e.read_only, e.resources, e.data`
)

// AppendEvents implements store.EventLog: the events in one transaction of one statement,
// durable when the commit returns.
func (s *Store) AppendEvents(ctx context.Context, events []store.Event) error {
	if len(events) == 0 {
		return nil
	}
	if !s.gate.Enter() {
		return ErrClosed
	}
	defer s.gate.Leave()
	n := len(events)
	var (
		accounts, ids, names, sources, users, keys, resources = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		times                                                 = make([]int64, 0, n)
		readOnly                                              = make([]bool, 0, n)
		data                                                  = make([][]byte, 0, n)
		aAccounts, aAttrs, aValues, aIDs                      []string
		aTimes                                                []int64
	)
	seen := make(map[string]bool, n)
	for _, ev := range events {
		if seen[ev.ID] {
			continue // the first of the batch is the one stored, as when the two come apart
		}
		seen[ev.ID] = true
		t := ev.Time.UnixNano()
		d := ev.Data
		if d == nil {
			d = []byte{}
		}
		accounts, times, ids, names = append(accounts, ev.Account), append(times, t), append(ids, ev.ID), append(names, ev.Name)
		sources, users, keys = append(sources, ev.Source), append(users, ev.Username), append(keys, ev.AccessKeyID)
		readOnly, resources, data = append(readOnly, ev.ReadOnly), append(resources, string(store.EncodeEventResources(ev.Resources))), append(data, d)
		for _, av := range store.EventAttributeValues(ev) {
			aAccounts, aAttrs, aValues, aTimes, aIDs = append(aAccounts, ev.Account), append(aAttrs, av[0]), append(aValues, av[1]), append(aTimes, t), append(aIDs, ev.ID)
		}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, sqlInsertEvents, accounts, times, ids, names, sources, users, keys, readOnly, resources, data,
			aAccounts, aAttrs, aValues, aTimes, aIDs)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: append %d events: %w", len(events), unavailable(err))
	}
	return nil
}

// DeleteEventsBefore implements store.EventLog.
func (s *Store) DeleteEventsBefore(ctx context.Context, before time.Time) (int64, error) {
	if !s.gate.Enter() {
		return 0, ErrClosed
	}
	defer s.gate.Leave()
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, sqlDeleteEvents, before.UnixNano())
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		_, err = tx.Exec(ctx, sqlDeleteEventAttr, before.UnixNano())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: delete events: %w", unavailable(err))
	}
	return n, nil
}

// Events implements store.EventLog.
func (s *Store) Events(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	if err := store.CheckEventQuery(q); err != nil {
		return nil, err
	}
	if !s.gate.Enter() {
		return nil, ErrClosed
	}
	defer s.gate.Leave()
	text, args := eventsSQL(q)
	rows, err := s.pool.Query(ctx, text, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: events: %w", unavailable(err))
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var ev store.Event
		var t int64
		var resources string
		if err := rows.Scan(&ev.ID, &ev.Account, &t, &ev.Name, &ev.Source, &ev.Username, &ev.AccessKeyID, &ev.ReadOnly, &resources, &ev.Data); err != nil {
			return nil, fmt.Errorf("postgres: events: %w", unavailable(err))
		}
		ev.Time = time.Unix(0, t).UTC()
		if ev.Resources, err = store.DecodeEventResources([]byte(resources)); err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: events: %w", unavailable(err))
	}
	return out, nil
}

// eventsSQL is the query of q and its arguments, the SQLite backend's query with $n
// placeholders: an account's events newest first; with an attribute, that attribute's rows in
// the same order, joined to their events; EventId is the one event of that id.
func eventsSQL(q store.EventQuery) (string, []any) {
	var b strings.Builder
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	tcol, idcol := "e.time", "e.id"
	switch q.Attribute {
	case "":
		b.WriteString(`SELECT ` + eventColumns + ` FROM events e WHERE e.account = ` + arg(q.Account))
	case store.EventAttrEventID:
		b.WriteString(`SELECT ` + eventColumns + ` FROM events e WHERE e.id = ` + arg(q.Value) + ` AND e.account = ` + arg(q.Account))
	default:
		tcol, idcol = "a.time", "a.event_id"
		b.WriteString(`SELECT ` + eventColumns + ` FROM event_attributes a JOIN events e ON e.id = a.event_id WHERE a.account = ` +
			arg(q.Account) + ` AND a.attr = ` + arg(q.Attribute) + ` AND a.value = ` + arg(q.Value))
	}
	if !q.Start.IsZero() {
		b.WriteString(` AND ` + tcol + ` >= ` + arg(q.Start.UnixNano()))
	}
	if !q.End.IsZero() {
		b.WriteString(` AND ` + tcol + ` <= ` + arg(q.End.UnixNano()))
	}
	if q.Before != nil {
		b.WriteString(` AND (` + tcol + `, ` + idcol + `) < (` + arg(q.Before.Time.UnixNano()) + `, ` + arg(q.Before.ID) + `)`)
	}
	b.WriteString(` ORDER BY ` + tcol + ` DESC, ` + idcol + ` DESC`)
	if q.Limit > 0 {
		b.WriteString(` LIMIT ` + arg(q.Limit))
	}
	return b.String(), args
}
