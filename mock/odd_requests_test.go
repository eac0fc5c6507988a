package mock

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oddServer is a real server on 127.0.0.1 for requests httptest.NewRequest cannot express.
func oddServer(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	s := newTestServer(t, opts)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// assertStillServing proves the server answers a plain request after an odd one.
func assertStillServing(t *testing.T, ts *httptest.Server) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.URL+tokenURL("mobypay"), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer x")
	res, err := ts.Client().Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	require.NoError(t, res.Body.Close())
	assert.Equal(t, http.StatusOK, res.StatusCode, "the server still serves")
}

func TestOddProviderNames(t *testing.T) {
	t.Parallel()
	_, ts := oddServer(t, Options{})
	long := strings.Repeat("p", 10<<10)
	tests := []struct {
		name     string
		segment  string // as written in the URL
		status   int
		provider string // as the not-found scenario names it; "" when no route matches
	}{
		{"plain", "mobypay", 404, "mobypay"},
		{"empty", "", 404, ""},
		{"10 KB long", long, 404, long},
		{"encoded slash", "a%2Fb", 404, "a/b"},
		{"encoded traversal", "..%2F..%2Fetc%2Fpasswd", 404, "../../etc/passwd"},
		{"dot dot", "..", 404, ".."},
		{"encoded dot dot", "%2E%2E", 404, ".."},
		{"unicode", "%E2%9C%93-%C3%BCn%C3%AF", 404, "✓-ünï"},
		{"raw unicode", "✓", 404, "✓"},
		{"NUL", "a%00b", 404, "a\x00b"},
		{"invalid UTF-8", "%FF%FE", 404, "\uFFFD\uFFFD"},
		{"newline", "a%0Ab", 404, "a\nb"},
		{"quote and backslash", `%22%5C`, 404, `"\`},
		{"space", "a%20b", 404, "a b"},
		{"percent", "100%25", 404, "100%"},
		{"broken escape", "%zz", 400, ""}, // net/http refuses the request line
		{"unescaped slash splits the segment", "a/b", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, prefix := range []string{"/user/2021-2", ""} {
				req, err := http.NewRequest(http.MethodPost, ts.URL+prefix+"/federated-identities/"+tt.segment+"/token", nil)
				if tt.segment == "%zz" {
					// net/url refuses it; write it on the wire ourselves.
					require.Error(t, err)
					res := rawRequests(t, ts, "POST "+prefix+"/federated-identities/%zz/token HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\nX-Mock-Scenario: not-found\r\n\r\n", 1)
					assert.Equal(t, tt.status, res[0].StatusCode)
					continue
				}
				require.NoError(t, err)
				req.Header.Set("Authorization", "Bearer x")
				req.Header.Set("X-Mock-Scenario", "not-found")
				res, err := ts.Client().Do(req)
				require.NoError(t, err)
				body, err := io.ReadAll(res.Body)
				require.NoError(t, err)
				require.NoError(t, res.Body.Close())
				require.Equal(t, tt.status, res.StatusCode, "%s: %s", prefix, truncate(string(body), 300))
				errs := assertJSONAPIErrors(t, res.StatusCode, res.Header, body)
				if tt.provider == "" {
					assert.Equal(t, "route-not-found", errs[0]["code"])
					continue
				}
				assert.Equal(t, "not-found", errs[0]["code"])
				assert.Equal(t, "No identity provider named "+tt.provider+" is configured", errs[0]["detail"])
			}
			assertStillServing(t, ts)
		})
	}
}

func TestOddHeaders(t *testing.T) {
	t.Parallel()
	_, ts := oddServer(t, Options{})
	many := http.Header{"Authorization": {"Bearer x"}}
	for i := range 1000 {
		many.Add("X-Junk", strconv.Itoa(i))
	}
	tests := []struct {
		name     string
		header   http.Header
		status   int
		scenario string
	}{
		{"huge header under the limit", http.Header{"Authorization": {"Bearer x"}, "X-Huge": {strings.Repeat("h", 900<<10)}}, 200, "success"},
		{"huge header over the limit", http.Header{"Authorization": {"Bearer x"}, "X-Huge": {strings.Repeat("h", 2<<20)}}, 431, ""},
		{"huge bearer token", http.Header{"Authorization": {"Bearer " + strings.Repeat("t", 500<<10)}}, 200, "success"},
		{"a thousand duplicates", many, 200, "success"},
		{"two Authorization, bearer first", http.Header{"Authorization": {"Bearer x", "Basic eA=="}}, 200, "success"},
		{"two Authorization, basic first", http.Header{"Authorization": {"Basic eA==", "Bearer x"}}, 401, "unauthorized"},
		{"two X-Mock-Scenario, the first wins", http.Header{"Authorization": {"Bearer x"}, "X-Mock-Scenario": {"not-found", "internal-error"}}, 404, "not-found"},
		{"X-Mock-Scenario with path separators", http.Header{"Authorization": {"Bearer x"}, "X-Mock-Scenario": {"../../etc/passwd"}}, 400, ""},
		{"X-Mock-Scenario naming a file", http.Header{"Authorization": {"Bearer x"}, "X-Mock-Scenario": {"/etc/passwd"}}, 400, ""},
		{"X-Mock-Scenario 100 KB", http.Header{"Authorization": {"Bearer x"}, "X-Mock-Scenario": {strings.Repeat("s", 100<<10)}}, 400, ""},
		{"X-Mock-Session 10 KB", http.Header{"Authorization": {"Bearer x"}, "X-Mock-Session": {strings.Repeat("k", 10<<10)}}, 200, "success"},
		{"session cookie", http.Header{"Authorization": {"Bearer x"}, "Cookie": {"fedtoken_mock_session=abc; other=1"}}, 200, "success"},
		{"Prefer 1 MB", http.Header{"Authorization": {"Bearer x"}, "Prefer": {strings.Repeat("x", 800<<10) + ",example=not-found"}}, 200, "success"},
		{"SDK headers", http.Header{"Authorization": {"Bearer x"}, "Accept": {"application/vnd.api+json"}, "Content-Type": {"application/vnd.api+json"},
			"Api-Key": {"k"}, "Uber-Trace-Id": {"abc:0053444B:0:01"}, "User-Agent": {"PACECloudSDK/1.0 (Pixel; Android/14)"}}, 200, "success"},
		{"Accept nothing JSON", http.Header{"Authorization": {"Bearer x"}, "Accept": {"text/html"}}, 200, "success"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodPost, ts.URL+tokenURL("mobypay"), nil)
			require.NoError(t, err)
			req.Header = tt.header.Clone()
			res, err := ts.Client().Do(req)
			require.NoError(t, err)
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.NoError(t, res.Body.Close())
			require.Equal(t, tt.status, res.StatusCode, truncate(string(body), 300))
			assert.Equal(t, tt.scenario, res.Header.Get("X-Mock-Scenario"))
			if tt.status == http.StatusBadRequest {
				assert.Equal(t, "unknown-scenario", res.Header.Get("X-Mock-Error"))
				assertJSONAPIErrors(t, res.StatusCode, res.Header, body)
			}
			assertStillServing(t, ts)
		})
	}
}

// TestHugeRequestBody streams 100 MB at the endpoint over a raw connection (a net/http client may
// report its own write error instead of the response once the server stops reading). Not
// parallel: it measures the heap.
func TestHugeRequestBody(t *testing.T) {
	s, ts := oddServer(t, Options{})
	for _, chunked := range []bool{false, true} {
		t.Run("chunked="+strconv.FormatBool(chunked), func(t *testing.T) {
			const size = 100 << 20
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)

			conn, err := net.Dial("tcp", ts.Listener.Addr().String())
			require.NoError(t, err)
			defer conn.Close()
			require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
			head := "POST " + tokenURL("mobypay") + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\nContent-Type: application/octet-stream\r\n"
			if chunked {
				head += "Transfer-Encoding: chunked\r\n\r\n"
			} else {
				head += "Content-Length: " + strconv.Itoa(size) + "\r\n\r\n"
			}
			var sent atomic.Int64
			go func() {
				// Write errors are expected: the server answers and closes long before 100 MB.
				if _, err := io.WriteString(conn, head); err != nil {
					return
				}
				chunk := make([]byte, 32<<10)
				for sent.Load() < size {
					sent.Add(int64(len(chunk))) // counted before it leaves, so sent bounds what the server got
					var err error
					if chunked {
						_, err = io.WriteString(conn, strconv.FormatInt(int64(len(chunk)), 16)+"\r\n")
					}
					if err == nil {
						_, err = conn.Write(chunk)
					}
					if err == nil && chunked {
						_, err = io.WriteString(conn, "\r\n")
					}
					if err != nil {
						return
					}
				}
			}()
			br := bufio.NewReader(conn)
			res, err := http.ReadResponse(br, nil)
			require.NoError(t, err, "the mock answers without reading 100 MB")
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			runtime.ReadMemStats(&after)
			assert.Equal(t, http.StatusOK, res.StatusCode)
			_, err = br.ReadByte()
			assert.Error(t, err, "the unread rest of the body ends the connection")
			assert.True(t, json.Valid(body))
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(size/4), "allocations stay far below the body's size")
			assert.GreaterOrEqual(t, sent.Load(), int64(maxRequestBody), "the mock reads up to its limit")
			assert.Less(t, sent.Load(), int64(size), "and no further")
			t.Logf("sent %d KiB before the mock answered", sent.Load()>>10)
			assertStillServing(t, ts)
		})
	}
	assert.Len(t, s.Requests(RequestFilter{}), 4, "two huge requests and two plain ones, all answered")
}

// rawRequests writes raw to a fresh connection and reads n responses from it.
func rawRequests(t *testing.T, ts *httptest.Server, raw string, n int) []*http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
	_, err = io.WriteString(conn, raw)
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	var out []*http.Response
	for range n {
		res, err := http.ReadResponse(br, nil)
		require.NoError(t, err, "response %d of %d", len(out)+1, n)
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		res.Body = io.NopCloser(strings.NewReader(string(body)))
		out = append(out, res)
	}
	return out
}

func post(path string, headers ...string) string {
	return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer x\r\n" + strings.Join(headers, "") + "\r\n"
}

func TestRawConnections(t *testing.T) {
	t.Parallel()
	_, ts := oddServer(t, Options{})
	path := tokenURL("mobypay")
	tests := []struct {
		name      string
		raw       string
		statuses  []int
		scenarios []string
		closes    bool // the server ends the connection after the last response
	}{
		{"HTTP/1.0", "POST " + path + " HTTP/1.0\r\nAuthorization: Bearer x\r\n\r\n", []int{200}, []string{"success"}, true},
		{"HTTP/1.0 keep-alive", "POST " + path + " HTTP/1.0\r\nAuthorization: Bearer x\r\nConnection: keep-alive\r\n\r\n" +
			"POST " + path + " HTTP/1.0\r\nAuthorization: Bearer x\r\nX-Mock-Scenario: not-found\r\n\r\n", []int{200, 404}, []string{"success", "not-found"}, true},
		{"pipelined", post(path) + post(path, "X-Mock-Scenario: not-found\r\n") + post(path, "X-Mock-Scenario: nope\r\n") +
			"POST " + path + " HTTP/1.1\r\nHost: x\r\n\r\n", []int{200, 404, 400, 401}, []string{"success", "not-found", "", "unauthorized"}, false},
		{"pipelined with bodies", post(path, "Content-Length: 5\r\n") + "hello" + post(path, "Transfer-Encoding: chunked\r\n") + "3\r\nabc\r\n0\r\n\r\n" + post(path),
			[]int{200, 200, 200}, []string{"success", "success", "success"}, false},
		{"keep-alive then close", post(path) + post(path, "Connection: close\r\n"), []int{200, 200}, []string{"success", "success"}, true},
		{"HEAD", "HEAD " + path + " HTTP/1.1\r\nHost: x\r\n\r\n" + post(path), []int{405, 200}, []string{"", "success"}, false},
		{"absolute-form target", "POST http://example.com" + path + " HTTP/1.1\r\nHost: example.com\r\nAuthorization: Bearer x\r\n\r\n", []int{200}, []string{"success"}, false},
		{"query string ignored", post(path + "?scenario=not-found&provider=unlinked"), []int{200}, []string{"success"}, false},
		{"Expect 100-continue", post(path, "Content-Length: 4\r\nExpect: 100-continue\r\n") + "body", []int{200}, []string{"success"}, false},
		{"garbage request line", "GARBAGE\r\n\r\n", []int{400}, []string{""}, true},
		{"space in the target", "POST /federated-identities/a b/token HTTP/1.1\r\nHost: x\r\n\r\n", []int{400}, []string{""}, true},
		{"NUL in a header", post(path, "X-Mock-Scenario: a\x00b\r\n"), []int{400}, []string{""}, true},
		{"bad Content-Length", post(path, "Content-Length: lots\r\n"), []int{400}, []string{""}, true},
		{"no Host on HTTP/1.1", "POST " + path + " HTTP/1.1\r\nAuthorization: Bearer x\r\n\r\n", []int{400}, []string{""}, true},
		{"HTTP/2 preface on HTTP/1", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", []int{404}, []string{""}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := rawRequestsThenEOF(t, ts, tt.raw, len(tt.statuses), tt.closes)
			ids := map[string]bool{}
			for i, r := range res {
				assert.Equal(t, tt.statuses[i], r.StatusCode, "response %d", i+1)
				assert.Equal(t, tt.scenarios[i], r.Header.Get("X-Mock-Scenario"), "response %d", i+1)
				if rid := r.Header.Get("Request-Id"); rid != "" {
					assert.False(t, ids[rid], "Request-Id repeats")
					ids[rid] = true
				}
			}
			assertStillServing(t, ts)
		})
	}
}

// rawRequestsThenEOF is rawRequests that also checks whether the server closes the connection.
func rawRequestsThenEOF(t *testing.T, ts *httptest.Server, raw string, n int, closes bool) []*http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
	_, err = io.WriteString(conn, raw)
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	var out []*http.Response
	for range n {
		req := &http.Request{Method: http.MethodPost}
		if strings.HasPrefix(raw, "HEAD") && len(out) == 0 {
			req.Method = http.MethodHead
		}
		res, err := http.ReadResponse(br, req)
		require.NoError(t, err, "response %d of %d", len(out)+1, n)
		for res.StatusCode == http.StatusContinue {
			res, err = http.ReadResponse(br, req)
			require.NoError(t, err, "final response %d of %d", len(out)+1, n)
		}
		_, err = io.Copy(io.Discard, res.Body)
		require.NoError(t, err)
		out = append(out, res)
	}
	if closes {
		_, err := br.ReadByte()
		assert.True(t, errors.Is(err, io.EOF), "the server closes the connection, got %v", err)
	} else {
		// The connection stays open for another request.
		_, err = io.WriteString(conn, post(tokenURL("mobypay"), "Connection: close\r\n"))
		require.NoError(t, err)
		res, err := http.ReadResponse(br, nil)
		require.NoError(t, err, "keep-alive: a further request on the same connection")
		assert.Equal(t, http.StatusOK, res.StatusCode)
	}
	return out
}

func TestScenarioNamesNeverTouchTheFilesystem(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"teapot.yaml": "status: 418\nbody: {}\n"})
	_, ts := oddServer(t, Options{Dir: dir})
	for _, name := range []string{"../../etc/passwd", "/etc/passwd", "teapot.yaml", "./teapot", "..", "teapot/../teapot", "%2e%2e%2fteapot"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodPut, ts.URL+"/__admin/scenario", strings.NewReader(`{"scenario": `+strconv.Quote(name)+`}`))
			require.NoError(t, err)
			res, err := ts.Client().Do(req)
			require.NoError(t, err)
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.NoError(t, res.Body.Close())
			require.Equal(t, http.StatusBadRequest, res.StatusCode, string(body))
			errs := assertJSONAPIErrors(t, res.StatusCode, res.Header, body)
			assert.Equal(t, "unknown-scenario", errs[0]["code"])
			assert.Contains(t, errs[0]["detail"], "teapot", "the detail lists the scenarios that exist")

			req, err = http.NewRequest(http.MethodPost, ts.URL+tokenURL("mobypay"), nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer x")
			req.Header.Set("X-Mock-Scenario", name)
			res, err = ts.Client().Do(req)
			require.NoError(t, err)
			require.NoError(t, res.Body.Close())
			assert.Equal(t, http.StatusBadRequest, res.StatusCode)
			assert.Equal(t, "unknown-scenario", res.Header.Get("X-Mock-Error"))
		})
	}
}
