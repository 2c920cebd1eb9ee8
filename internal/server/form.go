package server

import (
	"errors"
	"net/url"
	"strings"
)

// maxQueryParams is net/url's default limit on the parameters of one query string.
const maxQueryParams = 10000

// parseQuery decodes a query string or form body into form, as url.ParseQuery does (the same
// values, the same first error), but with the values of all keys in one backing array: the
// standard parser allocates a slice per key, a third of a GetUser's allocations.
func parseQuery(form url.Values, query string) error {
	if query == "" {
		return nil
	}
	n := strings.Count(query, "&") + 1
	if n > maxQueryParams {
		return errors.New("number of URL query parameters exceeded limit")
	}
	values := make([]string, 0, n)
	var first error
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		if strings.Contains(pair, ";") {
			first = errors.New("invalid semicolon separator in query") // net/url lets it win
			continue
		}
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(key)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		value, err = url.QueryUnescape(value)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		if prev, ok := form[key]; ok {
			form[key] = append(prev, value)
			continue
		}
		values = append(values, value)
		n := len(values)
		form[key] = values[n-1 : n : n]
	}
	return first
}
