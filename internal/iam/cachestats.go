package iam

// CacheStat is how often one of the service's caches answered from memory (Hits) or sent the
// caller to the store (Misses), since the process started.
type CacheStat struct {
	Name         string // "credentials", "grants", "targets" or "users"
	Hits, Misses uint64
}

// CacheStats reports the access-key cache of authentication, the two policy caches of
// authorization and GetUser's cache, for the metrics.
func (s *Service) CacheStats() []CacheStat {
	return []CacheStat{
		{"credentials", s.creds.entries.hits.Load(), s.creds.entries.misses.Load()},
		{"grants", s.guard.grants.hits.Load(), s.guard.grants.misses.Load()},
		{"targets", s.guard.targets.hits.Load(), s.guard.targets.misses.Load()},
		{"users", s.users.hits.Load(), s.users.misses.Load()},
	}
}
