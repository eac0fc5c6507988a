package mock

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    delay
		str     string // String() of the result
		wantErr string
	}{
		{in: "", want: delay{}, str: ""},
		{in: "   ", want: delay{}, str: ""},
		{in: "0s", want: delay{}, str: ""},
		{in: "250ms", want: delay{250 * time.Millisecond, 250 * time.Millisecond}, str: "250ms"},
		{in: " 2s ", want: delay{2 * time.Second, 2 * time.Second}, str: "2s"},
		{in: "1m30s", want: delay{90 * time.Second, 90 * time.Second}, str: "1m30s"},
		{in: "100ms..800ms", want: delay{100 * time.Millisecond, 800 * time.Millisecond}, str: "100ms..800ms"},
		{in: "2s..5s", want: delay{2 * time.Second, 5 * time.Second}, str: "2s..5s"},
		{in: " 1s .. 2s ", want: delay{time.Second, 2 * time.Second}, str: "1s..2s"},
		{in: "0..1s", want: delay{0, time.Second}, str: "0s..1s"},
		{in: "1s..1s", want: delay{time.Second, time.Second}, str: "1s"},
		{in: "10m", want: delay{maxDelay, maxDelay}, str: "10m0s"},
		{in: "1us..2us", want: delay{time.Microsecond, 2 * time.Microsecond}, str: "1µs..2µs"},
		{in: "soon", wantErr: `invalid duration "soon" (use e.g. 250ms, 2s or 100ms..800ms)`},
		{in: "5", wantErr: `invalid duration "5"`},
		{in: "1s..", wantErr: `invalid duration ""`},
		{in: "..1s", wantErr: `invalid duration ""`},
		{in: "..", wantErr: `invalid duration ""`},
		{in: "1s..2s..3s", wantErr: `invalid duration "2s..3s"`},
		{in: "1s...2s", wantErr: "upper bound is below lower bound"}, // ".2s" is 200ms
		{in: "-1s", wantErr: `duration "-1s" is negative`},
		{in: "0s..-1s", wantErr: `duration "-1s" is negative`},
		{in: "10m1ns", wantErr: `duration "10m1ns" exceeds the 10m0s maximum`},
		{in: "1h", wantErr: `duration "1h" exceeds the 10m0s maximum`},
		{in: "1s..99999h", wantErr: `duration "99999h" exceeds the 10m0s maximum`},
		{in: "99999999999999999999h", wantErr: "invalid duration"},
		{in: "2s..1s", wantErr: `delay range "2s..1s": upper bound is below lower bound`},
		{in: "1s-2s", wantErr: `invalid duration "1s-2s"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseDelay(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Equal(t, delay{}, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.str, got.String())
			assert.Equal(t, tt.want.max == 0, got.zero())
			if tt.str != "" {
				again, err := parseDelay(tt.str)
				require.NoError(t, err, "String() must parse back")
				assert.Equal(t, got, again)
			}
		})
	}
}

func TestDelayDraw(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	fixed := delay{min: 250 * time.Millisecond, max: 250 * time.Millisecond}
	span := delay{min: 100 * time.Millisecond, max: 102 * time.Millisecond}
	seen := map[time.Duration]bool{}
	for range 1000 {
		assert.Equal(t, 250*time.Millisecond, fixed.draw(r))
		d := span.draw(r)
		require.GreaterOrEqual(t, d, span.min)
		require.LessOrEqual(t, d, span.max)
		seen[d] = true
	}
	assert.Greater(t, len(seen), 100, "a range draws many values")
	assert.Equal(t, time.Duration(0), delay{}.draw(r))

	// The same seed draws the same delays, which --seed relies on.
	a, b := rand.New(rand.NewPCG(5, 6)), rand.New(rand.NewPCG(5, 6))
	wide := delay{min: 0, max: maxDelay}
	for range 20 {
		assert.Equal(t, wide.draw(a), wide.draw(b))
	}
}
