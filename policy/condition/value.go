package condition

import (
	"encoding/base64"
	"errors"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ParseNumber parses a Numeric* operand: an integer or decimal number.
func ParseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

var errDate = errors.New("condition: not a date")

// ParseDate parses a Date* operand: one of the W3C profiles of ISO 8601 ("2020-01-01",
// "2020-01-01T00:00:01Z", "2016-12-13T21:20:37.593194+00:00", ...) or a count of seconds since
// the Unix epoch. Letters may be in either case. It follows the checks IAM makes when it accepts
// a policy ("The policy failed legacy parsing" otherwise).
func ParseDate(s string) (time.Time, error) {
	l := strings.ToLower(s)
	if !strings.ContainsAny(l, "t-") {
		n, err := strconv.ParseInt(l, 10, 64)
		if err != nil || n < 0 {
			return time.Time{}, errDate
		}
		return time.Unix(n, 0).UTC(), nil
	}
	datePart, timePart, _ := strings.Cut(l, "t")
	neg := strings.HasPrefix(datePart, "-")
	if neg {
		datePart = datePart[1:]
	}
	dp := strings.Split(datePart, "-")
	if len(dp) > 3 {
		return time.Time{}, errDate
	}
	year, err := atoiRange(dp[0], -292275054, 292278993)
	if err != nil {
		return time.Time{}, err
	}
	if neg {
		year = -year
	}
	month, day := 1, 1
	if len(dp) > 1 {
		if month, err = atoiRange(dp[1], 1, 12); err != nil {
			return time.Time{}, err
		}
	}
	if len(dp) > 2 {
		if day, err = atoiRange(dp[2], 1, 31); err != nil {
			return time.Time{}, err
		}
	}
	var hour, minute, sec, nsec int
	loc := time.UTC
	if timePart != "" {
		zone := ""
		if i := strings.IndexAny(timePart, "z+-"); i >= 0 {
			timePart, zone = timePart[:i], timePart[i:]
		}
		tp := strings.Split(timePart, ":")
		if len(tp) > 3 {
			return time.Time{}, errDate
		}
		if hour, err = atoiRange(tp[0], 0, 23); err != nil {
			return time.Time{}, err
		}
		if len(tp) > 1 {
			if minute, err = atoiRange(tp[1], 0, 59); err != nil {
				return time.Time{}, err
			}
		}
		if len(tp) > 2 {
			whole, frac, hasFrac := strings.Cut(tp[2], ".")
			if sec, err = atoiRange(whole, 0, 59); err != nil {
				return time.Time{}, err
			}
			if hasFrac {
				if len(frac) == 0 || len(frac) > 9 {
					return time.Time{}, errDate
				}
				f, err := atoiRange(frac, 0, 999999999)
				if err != nil {
					return time.Time{}, err
				}
				nsec = f * int(math.Pow10(9-len(frac)))
			}
		}
		switch {
		case zone == "" || zone == "z":
		case zone[0] == '+' || zone[0] == '-':
			zh, zm, hasM := strings.Cut(zone[1:], ":")
			if len(zh) != 2 {
				return time.Time{}, errDate
			}
			h, err := atoiRange(zh, 0, 23)
			if err != nil {
				return time.Time{}, err
			}
			m := 0
			if hasM {
				if len(zm) != 2 {
					return time.Time{}, errDate
				}
				if m, err = atoiRange(zm, 0, 59); err != nil {
					return time.Time{}, err
				}
			}
			off := h*3600 + m*60
			if zone[0] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		default:
			return time.Time{}, errDate
		}
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), nil
}

func atoiRange(s string, lo, hi int) (int, error) {
	if s == "" {
		return 0, errDate
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errDate
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, errDate
	}
	return n, nil
}

// ParseBool parses a Bool operand, ignoring case.
func ParseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// ParsePrefix parses an IpAddress operand: a CIDR block, or an address that stands for its /32
// (IPv4) or /128 (IPv6) block.
func ParsePrefix(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// decodeBinary decodes a BinaryEquals operand (standard base64, padding optional).
func decodeBinary(s string) ([]byte, bool) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	return nil, false
}
