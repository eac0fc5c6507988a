package mock

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/fedtoken/fedtoken-mock/scenarios"
)

// Fuzz targets. Their seed corpus is f.Add literals plus every file under the repository's
// testdata/fuzz/<FuzzName>/ (one input per file, as it is). Run one for a while with e.g.
//
//	go test ./mock -run '^$' -fuzz '^FuzzLoadFile$' -fuzztime 20s
//
// Go writes the inputs it finds failing to mock/testdata/fuzz/<FuzzName>/ in its own format;
// to keep one, copy its value into testdata/fuzz/<FuzzName>/ as a plain file.

// renderBudget bounds one render in the fuzz targets; a render that takes longer is a finding.
const renderBudget = 5 * time.Second

// addCorpus seeds f with the plain files of testdata/fuzz/<name>/.
func addCorpus(f *testing.F, name string, add func(data []byte)) {
	f.Helper()
	dir := filepath.Join("..", "testdata", "fuzz", name)
	entries, err := os.ReadDir(dir)
	require.NoError(f, err, "seed corpus %s", dir)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(f, err)
		add(data)
	}
}

// withinBudget runs fn, failing the fuzz input if it does not finish within renderBudget.
func withinBudget(t *testing.T, what string, input any, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(renderBudget):
		t.Fatalf("%s took longer than %s on input %q", what, renderBudget, input)
	}
}

func FuzzLoadFile(f *testing.F) {
	f.Add([]byte("status: 200\nbody:\n  access_token: \"{{ Token 64 }}\"\n  token_type: Bearer\n  expires_in: \"{{ Number 300 3600 }}\"\n"))
	f.Add([]byte(`{"status": 404, "body": {"errors": [{"code": "x", "title": "t", "detail": "{{ .Provider }}"}]}}`))
	f.Add([]byte("sequence: [unauthorized, success]\nthen: cycle\n"))
	f.Add([]byte("fault: hang\ndelay: 1s..2s\n"))
	f.Add([]byte("status: 200\ncontract: off\nbody: &a [*a]\n"))
	f.Add([]byte("status: 503\nheaders: {Content-Type: text/plain}\nbody: |\n  down {{ .Provider }}\n"))
	entries, err := scenarios.FS.ReadDir(".")
	require.NoError(f, err)
	for _, e := range entries {
		data, err := scenarios.FS.ReadFile(e.Name())
		require.NoError(f, err)
		f.Add(data)
	}
	addCorpus(f, "FuzzLoadFile", func(data []byte) { f.Add(data) })

	ft := newFuncTypes()
	checker, err := newContract()
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxScenarioFileSize {
			t.Skip("the loader refuses files over its size limit before parsing")
		}
		l := &loader{ft: ft, contract: checker}
		var sc *scenario
		var err error
		withinBudget(t, "loading", data, func() { sc, err = l.parse(data, "fuzz") })
		if err != nil {
			require.Nil(t, sc)
			require.NotEmpty(t, err.Error())
			// parse turns parser panics into errors; one from our own code would hide here.
			require.NotContains(t, err.Error(), "cannot parse file:", "a panic while loading %q", data)
			return
		}
		require.NotNil(t, sc)
		if sc.sequence != nil {
			require.NotEmpty(t, sc.sequence)
			require.Nil(t, sc.body)
			return
		}
		if sc.status != 0 {
			require.True(t, sc.status >= 200 && sc.status <= 599, "status %d", sc.status)
		}
		require.NotEmpty(t, sc.header.Get("Content-Type"))
		require.LessOrEqual(t, sc.delay.min, sc.delay.max)
		if sc.body == nil || !isJSONMedia(sc.header.Get("Content-Type")) {
			return
		}
		var out []byte
		var rerr error
		withinBudget(t, "rendering", data, func() {
			out, rerr = sc.body.render(nil, newFaker(), &Vars{Provider: "p\"\n\x00\xff", RequestID: "cbgmhslmp1o9or9kh1p0", Status: sc.status})
		})
		if rerr != nil {
			return // a placeholder may fail per request (the 500 render-failed answer)
		}
		require.True(t, json.Valid(out), "a JSON scenario renders valid JSON; input %q gave %q", data, out)
	})
}

func FuzzParsePrefer(f *testing.F) {
	for _, s := range []string{"", "example=success", `code="404"`, "code=404, example=x", "return=minimal; code=500", "code=abc", ";;,=", "example=\xff"} {
		f.Add(s)
	}
	addCorpus(f, "FuzzParsePrefer", func(data []byte) { f.Add(string(data)) })
	f.Fuzz(func(t *testing.T, s string) {
		// A newline separates header values, so one input can be several Prefer headers.
		p := parsePrefer(strings.Split(s, "\n"))
		require.NotContains(t, p.example, ",")
		require.NotContains(t, p.example, ";")
		require.LessOrEqual(t, len(p.example), maxPreferLen)
		require.LessOrEqual(t, len(p.badCode), maxPreferLen)
		if p.code != 0 {
			require.True(t, p.code >= 100 && p.code <= 599, "code %d", p.code)
			require.Empty(t, p.badCode, "a good code and a bad one")
		}
		require.Equal(t, p, parsePrefer(strings.Split(s, "\n")), "deterministic")
	})
}

func FuzzParseDelay(f *testing.F) {
	for _, s := range []string{"", "250ms", "2s..5s", "0..1s", "10m", "10m1ns", "-1s", "1s..", "..", "2s..1s", "1.5h", "9223372036854775807ns"} {
		f.Add(s)
	}
	addCorpus(f, "FuzzParseDelay", func(data []byte) { f.Add(string(data)) })
	rnd := newFaker().rnd
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDelay(s)
		if err != nil {
			require.Equal(t, delay{}, d)
			require.NotEmpty(t, err.Error())
			return
		}
		require.GreaterOrEqual(t, d.min, time.Duration(0))
		require.LessOrEqual(t, d.min, d.max)
		require.LessOrEqual(t, d.max, maxDelay)
		back, err := parseDelay(d.String())
		require.NoError(t, err, "String() %q parses back", d.String())
		require.Equal(t, d, back)
		got := d.draw(rnd)
		require.True(t, got >= d.min && got <= d.max)
	})
}

func FuzzDecodeSwitch(f *testing.F) {
	for _, s := range []string{`{"scenario":"success"}`, `{"scenario":"x","times":3,"ttl":"30s"}`, `{"scenario":"x","times":0}`, `{"scenario":"x","ttl":"-1s"}`,
		`{"scenario":"x","extra":1}`, `{"scenario":"x"}{"scenario":"y"}`, `[]`, `null`, ``, `{"scenario":"../../etc/passwd"}`, `{"times":1e400}`} {
		f.Add([]byte(s))
	}
	addCorpus(f, "FuzzDecodeSwitch", func(data []byte) { f.Add(data) })
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPut, "/__admin/scenario", bytes.NewReader(body))
		req, opts, fail := decodeSwitch(r)
		if fail != nil {
			require.Contains(t, []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge}, fail.status)
			require.NotEmpty(t, fail.code)
			require.NotEmpty(t, fail.detail)
			require.True(t, utf8.ValidString(fail.detail) || !utf8.Valid(body), "detail is text")
			if len(body) > maxAdminBody {
				require.Equal(t, http.StatusRequestEntityTooLarge, fail.status)
			}
			return
		}
		require.LessOrEqual(t, len(body), maxAdminBody)
		require.NotEmpty(t, req.Scenario)
		n := 0
		if req.Times != nil {
			require.GreaterOrEqual(t, *req.Times, 1)
			n++
		}
		if req.TTL != "" {
			d, err := time.ParseDuration(req.TTL)
			require.NoError(t, err)
			require.True(t, d > 0 && d <= maxSwitchTTL)
			n++
		}
		require.Len(t, opts, n)
	})
}

func FuzzPlaceholder(f *testing.F) {
	for _, s := range []string{"{{ Token 64 }}", "{{ Number 300 3600 }}", "{{ Bool }}", "n={{ Number 1 9 }}", "{{ .Provider }}", "{{ .RequestID }}-{{ .Status }}",
		"{{ ToUpper .Provider }}", `{{ if Bool }}a{{ else }}b{{ end }}`, "{{ Nope }}", "{{ .Nope }}", "{{ Token 0 }}", "{{ Float64 }}", `{{ printf "%q" "x" }}`, "{{"} {
		f.Add(s)
	}
	addCorpus(f, "FuzzPlaceholder", func(data []byte) { f.Add(string(data)) })
	ft := newFuncTypes()
	fk := newFaker()
	f.Fuzz(func(t *testing.T, src string) {
		ph, cerr := ft.compilePlaceholder(src)
		if cerr != nil {
			require.NotEmpty(t, cerr.Error())
			return
		}
		b := &body{segs: []segment{{kind: jPlaceholder, ph: ph}}, dynamic: true}
		var out []byte
		var err error
		withinBudget(t, "rendering", src, func() {
			fk.seed(1, 2)
			out, err = b.render(nil, fk, &Vars{Provider: "mobypay", RequestID: "cbgmhslmp1o9or9kh1p0", Session: "s", Scenario: "fuzz", Status: 200})
		})
		if err != nil {
			require.NotEmpty(t, err.Error())
			return
		}
		require.True(t, json.Valid(out), "placeholder %q rendered %q", src, out)
		if !ph.typed {
			require.Equal(t, byte('"'), out[0], "an untyped placeholder is a JSON string")
		}
	})
}
