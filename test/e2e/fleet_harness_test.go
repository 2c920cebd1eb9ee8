package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/pgtest"
)

// newFleet starts n nodes on one new PostgreSQL database, sharing one master key (as a fleet's
// nodes must), each with its own caches and listener. Node 0 creates the first account; every
// env carries its root credentials and clients signed with them, pointed at its own node.
func newFleet(t *testing.T, n int) []*env {
	t.Helper()
	return newFleetOn(t, pgtest.Database(t), n)
}

// newFleetOn is newFleet on the database at url.
func newFleetOn(t *testing.T, url string, n int) []*env {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	masterKey := hex.EncodeToString(key)
	nodes := make([]*env, n)
	for i := range nodes {
		nodes[i] = newEnvWith(t, nil, func(c *config.Config) {
			c.DatabaseURL = url
			c.MasterKey = masterKey
		})
	}
	for _, e := range nodes[1:] {
		e.Root, e.Account = nodes[0].Root, nodes[0].Account
		e.IAM, e.STS = e.clients(e.Root.AccessKeyID, e.Root.SecretAccessKey, "")
	}
	return nodes
}
