package main

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wrkOutput is a real `wrk --latency` summary of the baseline's 401 path.
const wrkOutput = `Running 2s test @ http://127.0.0.1:18555/user/2021-2/federated-identities/mobypay/token
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.32ms    2.02ms  23.10ms   81.21%
    Req/Sec     7.48k     2.01k   10.87k    62.50%
  Latency Distribution
     50%    1.85ms
     75%    2.97ms
     90%    4.43ms
     99%   10.03ms
  29824 requests in 2.01s, 13.82MB read
  Non-2xx or 3xx responses: 29824
Requests/sec:  14854.06
Transfer/sec:      6.88MB
`

func TestParseWrk(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want wrkResult
	}{
		{"401 path", wrkOutput, wrkResult{RPS: 14854.06, P99: 10030 * time.Microsecond, Requests: 29824, Non2xx: 29824}},
		{
			"microseconds, socket errors, all 2xx",
			`  Latency Distribution
     50%  291.00us
     99%  812.50us
  561793 requests in 10.01s, 81.47MB read
  Socket errors: connect 1, read 3, write 0, timeout 12
Requests/sec:  56123.45
`,
			wrkResult{RPS: 56123.45, P99: 812500 * time.Nanosecond, Requests: 561793, SocketErrors: 16},
		},
		{"seconds", "     99%    1.20s\nRequests/sec:     12.00\n", wrkResult{RPS: 12, P99: 1200 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseWrk(tt.out)
			require.NoError(t, err)
			assert.InDelta(t, tt.want.RPS, got.RPS, 0.001)
			assert.Equal(t, tt.want.P99, got.P99)
			assert.Equal(t, tt.want.Requests, got.Requests)
			assert.Equal(t, tt.want.Non2xx, got.Non2xx)
			assert.Equal(t, tt.want.SocketErrors, got.SocketErrors)
		})
	}
}

func TestParseWrkErrors(t *testing.T) {
	tests := []struct{ name, out, want string }{
		{"no req/s", "     99%   10.03ms\n", "Requests/sec"},
		{"no --latency", "Requests/sec:  14854.06\n", "99%"},
		{"bad unit", "     99%   10.03xs\nRequests/sec:  1.0\n", "10.03xs"},
		{"empty", "", "Requests/sec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseWrk(tt.out)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestReadHWMOwnProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	b, err := readHWM(os.Getpid())
	require.NoError(t, err)
	// A running Go test binary is resident for at least a megabyte and far below a terabyte.
	assert.Greater(t, b, int64(1<<20))
	assert.Less(t, b, int64(1<<40))
}
