package mock

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// maxDelay caps any configured delay so a typo ("250m") cannot park requests for hours.
const maxDelay = 10 * time.Minute

// delay is a fixed duration or a uniform range; the zero value means no delay.
type delay struct {
	min, max time.Duration
}

// parseDelay reads "250ms", "2s" or a range "100ms..800ms".
func parseDelay(s string) (delay, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return delay{}, nil
	}
	lo, hi, isRange := strings.Cut(s, "..")
	minD, err := parseOneDuration(lo)
	if err != nil {
		return delay{}, err
	}
	maxD := minD
	if isRange {
		if maxD, err = parseOneDuration(hi); err != nil {
			return delay{}, err
		}
		if maxD < minD {
			return delay{}, fmt.Errorf("delay range %q: upper bound is below lower bound", s)
		}
	}
	return delay{min: minD, max: maxD}, nil
}

func parseOneDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 250ms, 2s or 100ms..800ms)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	if d > maxDelay {
		return 0, fmt.Errorf("duration %q exceeds the %s maximum", s, maxDelay)
	}
	return d, nil
}

// zero reports whether the delay is none at all.
func (d delay) zero() bool { return d.max == 0 }

// draw picks a duration in the range using r, so a seeded run repeats its delays.
func (d delay) draw(r *rand.Rand) time.Duration {
	if d.max == d.min {
		return d.min
	}
	return d.min + time.Duration(r.Int64N(int64(d.max-d.min)+1))
}

// String renders the delay the way it is written in files.
func (d delay) String() string {
	if d.zero() {
		return ""
	}
	if d.min == d.max {
		return d.min.String()
	}
	return d.min.String() + ".." + d.max.String()
}
