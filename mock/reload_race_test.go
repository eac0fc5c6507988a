package mock

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/fedtoken/fedtoken-mock/scenarios"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Reloads racing files that change underneath them.
//
// What is guaranteed (and asserted here): the loader reads the directory listing, then each
// file once, one after another, and swaps the finished set in with one atomic store. So
//   - a reload either succeeds with a set in which every file parsed whole and every reference
//     resolved, or fails with a *LoadError and the previous set keeps serving;
//   - every request and admin read sees exactly one loaded set, never parts of two;
//   - a file torn by an in-place rewrite fails the reload rather than loading a fragment,
//     provided any prefix of it is invalid (the files below are laid out so that it is);
//   - the loader digests the directory's files before and after reading them and retries (up to
//     three times) when they differ, so a mix of old and new versions needs a writer that changes
//     files and changes them back within one load; it is unlikely, not impossible. Writers that
//     need several files to change together make the scenario directory a symlink and swap it to
//     a complete new directory (rename of a symlink is atomic): the loader opens the directory
//     once per reload, so each reload sees one generation whole. Keep the old directory until
//     the reload has finished, as a directory deleted mid-read reads as empty.

// The pair of files rewritten together. a is a sequence whose first step is b, so a set with a
// but not b fails to link; each has its generation as description, b also in its body. Keys are
// ordered so that every strict prefix of a file is invalid: a without its sequence lacks a
// status, b without its complete last line has a missing or out-of-range status.
func pairFiles(gen int) (a, b string) {
	a = fmt.Sprintf("description: gen-%d\nsequence: [b, success]\n", gen)
	b = fmt.Sprintf("description: gen-%d\ncontract: off\nbody:\n  marker: gen-%d\nstatus: 200\n", gen, gen)
	return a, b
}

// pair is the generations of a and b in one loaded set; -1 means the file is not in it.
type pair struct{ a, b int }

func genOf(description string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(description, "gen-"))
	if err != nil || !strings.HasPrefix(description, "gen-") {
		return -2 // a description no writer wrote: a torn or foreign file
	}
	return n
}

// pairOf reads the pair from a scenario list, and whether a is the sequence over b it must be.
func pairOf(list []ScenarioInfo) (pair, bool) {
	p := pair{-1, -1}
	linked := true
	for _, sc := range list {
		switch sc.Name {
		case "a":
			p.a = genOf(sc.Description)
			linked = len(sc.Sequence) == 2 && sc.Sequence[0] == "b" && sc.Sequence[1] == "success"
		case "b":
			p.b = genOf(sc.Description)
		}
	}
	return p, linked && p.a >= 0 && p.b >= 0
}

// served is what the running handler answers, as a client sees it: the pair in the admin list,
// and the generation of b's body marker in a token answer through a (whose first step is b).
type served struct {
	pair   pair
	marker int
}

// ask sends one request through h without a testing.T, so goroutines other than the test's may use it.
func ask(h http.Handler, method, path string, headers ...[2]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for _, kv := range headers {
		req.Header.Set(kv[0], kv[1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func servedBy(s *Server, session string) (served, error) {
	w := ask(s.Handler(), http.MethodGet, "/__admin/scenarios")
	var doc struct{ Scenarios []ScenarioInfo }
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		return served{}, fmt.Errorf("scenarios: %w: %s", err, w.Body.String())
	}
	p, ok := pairOf(doc.Scenarios)
	if !ok {
		return served{pair: p}, fmt.Errorf("incomplete set served: %+v", p)
	}
	w = ask(s.Handler(), http.MethodPost, tokenURL("mobypay"),
		[2]string{"Authorization", "Bearer race"}, [2]string{"X-Mock-Scenario", "a"}, [2]string{"X-Mock-Session", session})
	var body struct{ Marker string }
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != http.StatusOK {
		return served{pair: p}, fmt.Errorf("token via a: %d %s", w.Code, w.Body.String())
	}
	return served{pair: p, marker: genOf(body.Marker)}, nil
}

// minimalBuiltins is the two built-ins the mock needs, so that a reload costs little more than
// reading the pair and the test fits many reloads into its time.
func minimalBuiltins(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	for _, name := range []string{"success.yaml", "unauthorized.yaml"} {
		data, err := fs.ReadFile(scenarios.FS, name)
		require.NoError(t, err)
		m[name] = &fstest.MapFile{Data: data}
	}
	return m
}

// raceLog gathers failures from the goroutines of a race test.
type raceLog struct {
	mu   sync.Mutex
	errs []string
}

func (l *raceLog) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) < 20 {
		l.errs = append(l.errs, fmt.Sprintf(format, args...))
	}
}

// writeAtomic replaces name's content by writing a hidden temporary file and renaming it over.
func writeAtomic(dir, name, content string) error {
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

// rewritePair writes generation gen of both files in one of four ways, each a way editors and
// deploy tools change files: in place (truncate and write), by rename, by deleting and
// recreating b, and by moving b away for a moment.
func rewritePair(dir string, gen int) error {
	a, b := pairFiles(gen)
	pa, pb := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	switch gen % 4 {
	case 0:
		return errors.Join(os.WriteFile(pb, []byte(b), 0o600), os.WriteFile(pa, []byte(a), 0o600))
	case 1:
		return errors.Join(writeAtomic(dir, "b.yaml", b), writeAtomic(dir, "a.yaml", a))
	case 2:
		return errors.Join(os.Remove(pb), os.WriteFile(pa, []byte(a), 0o600), os.WriteFile(pb, []byte(b), 0o600))
	default:
		away := filepath.Join(dir, "b.yaml.away")
		return errors.Join(os.Rename(pb, away), os.WriteFile(away, []byte(b), 0o600),
			os.WriteFile(pa, []byte(a), 0o600), os.Rename(away, pb))
	}
}

// TestReloadRaceFilesRewritten reloads in a loop while another goroutine rewrites, renames,
// deletes and recreates the files, and a third keeps asking the handler what it serves.
func TestReloadRaceFilesRewritten(t *testing.T) {
	reloads, writesPerReload := 120, 8
	if testing.Short() {
		reloads = 30
	}
	dir := t.TempDir()
	a, b := pairFiles(0)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(a), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.yaml"), []byte(b), 0o600))
	s := newTestServer(t, Options{Dir: dir, Builtin: minimalBuiltins(t)})

	log := &raceLog{}
	// Each token lets the writer write a burst of generations while the reload that sent it runs.
	tokens := make(chan struct{}, 1)
	var writer sync.WaitGroup
	written := 0
	writer.Go(func() {
		for range tokens {
			for range writesPerReload {
				written++
				if err := rewritePair(dir, written); err != nil {
					log.add("writer: %v", err)
				}
			}
		}
	})
	stop := make(chan struct{})
	var readerMu sync.Mutex
	seen := map[pair]int{}    // pairs the concurrent reader saw in the admin list
	markers := map[int]bool{} // b generations it saw in token answers
	var reader sync.WaitGroup
	reader.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			got, err := servedBy(s, fmt.Sprint("reader-", i))
			if err != nil {
				log.add("reader: %v", err)
				continue
			}
			readerMu.Lock()
			seen[got.pair]++
			markers[got.marker] = true
			readerMu.Unlock()
		}
	})

	loaded := map[pair]bool{{0, 0}: true} // every pair a reload installed
	loadedB := map[int]bool{0: true}      // and every b generation
	prev := pair{0, 0}
	var ok, failed, mixed int
	for i := range reloads {
		select {
		case tokens <- struct{}{}:
		default:
		}
		_, err := s.Reload()
		if err != nil {
			failed++
			var le *LoadError
			if !errors.As(err, &le) {
				log.add("reload %d: %T is not a *LoadError: %v", i, err, err)
			}
			// The previous set keeps serving, as a request shows.
			if got, err := servedBy(s, fmt.Sprint("after-fail-", i)); err != nil || got != (served{prev, prev.b}) {
				log.add("after failed reload %d: serving %+v (%v), want the previous %+v", i, got, err, prev)
			}
			continue
		}
		ok++
		p, complete := pairOf(s.Scenarios())
		if !complete {
			log.add("reload %d succeeded with an incomplete pair %+v", i, p)
			continue
		}
		if p.a != p.b {
			mixed++
		}
		loaded[p] = true
		loadedB[p.b] = true
		prev = p
		if got, err := servedBy(s, fmt.Sprint("after-ok-", i)); err != nil || got != (served{p, p.b}) {
			log.add("after reload %d: serving %+v (%v), want %+v", i, got, err, p)
		}
	}
	close(tokens)
	writer.Wait()
	close(stop)
	reader.Wait()

	assert.Empty(t, log.errs)
	for p, n := range seen {
		assert.True(t, loaded[p], "the reader saw %+v (%d times), a pair no reload installed", p, n)
	}
	for m := range markers {
		assert.True(t, loadedB[m], "a token answer carried b of generation %d, which no reload installed", m)
	}
	t.Logf("%d reloads: %d ok (%d with a and b of different generations), %d refused; %d generations written; reader saw %d distinct sets",
		reloads, ok, mixed, failed, written, len(seen))

	// Once the files stop changing, a reload installs the newest pair whole.
	_, err := s.Reload()
	require.NoError(t, err)
	p, complete := pairOf(s.Scenarios())
	assert.True(t, complete)
	assert.Equal(t, pair{written, written}, p)
}

// TestReloadRaceDirectorySwap: when the scenario directory is a symlink swapped atomically to a
// complete new directory, every reload sees one generation of both files: never a mix.
func TestReloadRaceDirectorySwap(t *testing.T) {
	reloads, gensPerReload := 100, 4
	if testing.Short() {
		reloads = 25
	}
	root := t.TempDir()
	current := filepath.Join(root, "current")
	makeGen := func(gen int) error {
		d := filepath.Join(root, fmt.Sprint("gen-", gen))
		a, b := pairFiles(gen)
		link := filepath.Join(root, ".current.tmp")
		return errors.Join(os.Mkdir(d, 0o700),
			os.WriteFile(filepath.Join(d, "a.yaml"), []byte(a), 0o600),
			os.WriteFile(filepath.Join(d, "b.yaml"), []byte(b), 0o600),
			os.Symlink(d, link),
			os.Rename(link, current))
	}
	require.NoError(t, makeGen(0))
	s := newTestServer(t, Options{Dir: current, Builtin: minimalBuiltins(t)})

	log := &raceLog{}
	tokens := make(chan struct{}, 1)
	gen := 0
	var writer sync.WaitGroup
	writer.Go(func() {
		for range tokens {
			for range gensPerReload {
				gen++
				if err := makeGen(gen); err != nil {
					log.add("writer: %v", err)
				}
			}
		}
	})
	last := 0
	for i := range reloads {
		select {
		case tokens <- struct{}{}:
		default:
		}
		if _, err := s.Reload(); err != nil {
			log.add("reload %d: %v", i, err)
			continue
		}
		p, complete := pairOf(s.Scenarios())
		switch {
		case !complete:
			log.add("reload %d: incomplete pair %+v", i, p)
		case p.a != p.b:
			log.add("reload %d: a from generation %d, b from %d", i, p.a, p.b)
		case p.a < last:
			log.add("reload %d: went back from generation %d to %d", i, last, p.a)
		default:
			last = p.a
		}
	}
	close(tokens)
	writer.Wait()
	assert.Empty(t, log.errs)
	_, err := s.Reload()
	require.NoError(t, err)
	p, _ := pairOf(s.Scenarios())
	assert.Equal(t, pair{gen, gen}, p)
	t.Logf("%d reloads over %d directory generations, none mixed", reloads, gen)
}
