package enforce

// CacheStat is how often one of the enforcement caches answered from memory (Hits) or sent the
// caller to the store (Misses), since the process started.
type CacheStat struct {
	Name         string // "credentials", "grants", and those added by ReportCache ("targets", "users")
	Hits, Misses uint64
}

// CacheCounter is a cache whose answers CacheStats reports; every EpochCache is one.
type CacheCounter interface {
	Counts() (hits, misses uint64)
}

// ReportCache adds c to what CacheStats reports, under name: IAM's cache of authorization
// targets, which lives with the code that resolves them and is invalidated by Epoch. It is
// part of construction: call it before the enforcer serves requests.
func (e *Enforcer) ReportCache(name string, c CacheCounter) {
	e.reported = append(e.reported, reportedCache{name, c})
}

type reportedCache struct {
	name string
	c    CacheCounter
}

// CacheStats reports the access-key cache of authentication, the grants cache of
// authorization and the caches added by ReportCache, for the metrics.
func (e *Enforcer) CacheStats() []CacheStat {
	out := make([]CacheStat, 0, 2+len(e.reported))
	h, m := e.creds.entries.Counts()
	out = append(out, CacheStat{"credentials", h, m})
	h, m = e.grants.Counts()
	out = append(out, CacheStat{"grants", h, m})
	for _, r := range e.reported {
		h, m := r.c.Counts()
		out = append(out, CacheStat{r.name, h, m})
	}
	return out
}
