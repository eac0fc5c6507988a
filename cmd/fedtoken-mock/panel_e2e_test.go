package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests drive the real binary's panel in headless Chromium: each case starts its own mock
// and its own browser with a fresh profile, so no case sees another's state.

const (
	e2eBearer     = "e2e-user-token"
	e2eAdminToken = "e2e-admin-secret"
	// screenshotEnv names the file a run writes its 1280×800 panel screenshot to.
	screenshotEnv = "FEDTOKEN_MOCK_SCREENSHOT"
)

func TestPanelInChromium(t *testing.T) {
	browser := chromiumPath()
	if browser == "" {
		t.Skip("panel e2e skipped: no Chromium found at /usr/bin/chromium or as `chromium` on PATH (install it: apt-get install -y chromium)")
	}
	if testing.Short() {
		t.Skip("panel e2e skipped in -short mode")
	}
	buildTestBinary(t)

	t.Run("set global by click, switch a provider and a session by keyboard, watch the journal", func(t *testing.T) {
		testPanelTour(t, browser)
	})
	t.Run("reload shows a broken file's errors with file and line", func(t *testing.T) {
		testPanelReloadErrors(t, browser)
	})
	t.Run("admin token is asked once and kept in sessionStorage", func(t *testing.T) {
		testPanelAdminToken(t, browser)
	})
}

func testPanelTour(t *testing.T, browser string) {
	m := startMock(t)
	ctx := newBrowser(t, browser)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(m.base+"/__admin/"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-scenario="internal-error"] button.set-global`)),
	))

	// One click makes internal-error the global answer, and the endpoint agrees.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`tr[data-scenario="internal-error"] button.set-global`)),
		waitJS(`document.querySelector('tr[data-scenario="internal-error"]').classList.contains('is-global')`),
	))
	assert.Contains(t, textOf(t, ctx, "#global-value"), "internal-error")
	var sent []answer
	a := m.post(t, "acme", nil)
	assert.Equal(t, http.StatusInternalServerError, a.status)
	assert.Equal(t, "internal-error", a.scenario)
	assert.Equal(t, "global-switch", a.selectedBy)
	sent = append(sent, a)

	// The provider form, by keyboard only: type, pick, press Enter.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("pf-scenario"), "success"),
		chromedp.SendKeys(chromedp.ID("pf-provider"), "mobypay\n"),
		waitJS(`document.getElementById('provider-switches').textContent.includes('mobypay')`),
	))
	a = m.post(t, "mobypay", nil)
	assert.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, "success", a.scenario)
	assert.Equal(t, "provider-switch", a.selectedBy)
	sent = append(sent, a)

	// A session switch beats the global one for that session only.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("sf-scenario"), "missing-linked-identity"),
		chromedp.SendKeys(chromedp.ID("sf-session"), "alice\n"),
		waitJS(`document.getElementById('session-list').textContent.includes('alice')`),
	))
	a = m.post(t, "acme", map[string]string{"X-Mock-Session": "alice"})
	assert.Equal(t, http.StatusUnauthorized, a.status)
	assert.Equal(t, "missing-linked-identity", a.scenario)
	assert.Equal(t, "session-switch", a.selectedBy)
	sent = append(sent, a)

	// Rows arriving must not move the journal box (no layout jump).
	boxBefore, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](journalBox))
	require.NoError(t, err)
	sent = append(sent,
		m.post(t, "acme", map[string]string{"Authorization": ""}),
		m.post(t, "mobypay", map[string]string{"X-Mock-Scenario": "unauthorized"}),
		m.post(t, "paypal", map[string]string{"X-Mock-Scenario": "refresh-then-success"}),
		m.post(t, "paypal", map[string]string{"X-Mock-Scenario": "refresh-then-success"}),
		m.post(t, "unknown", map[string]string{"X-Mock-Scenario": "not-found"}),
		m.post(t, "acme", nil),
	)

	// Every request shows up, newest first, with what the endpoint really answered.
	require.NoError(t, chromedp.Do(ctx, waitJS(fmt.Sprintf(`document.querySelectorAll('#journal-rows tr').length === %d`, len(sent)))))
	boxAfter, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](journalBox))
	require.NoError(t, err)
	assert.Equal(t, boxBefore, boxAfter, "the journal box keeps its place and size as rows arrive")
	heights, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[...document.querySelectorAll('#journal-rows tr')].map(tr => tr.getBoundingClientRect().height)`))
	require.NoError(t, err)
	for i, h := range heights {
		assert.Equal(t, heights[0], h, "row %d has the fixed row height", i)
	}
	rows := journalRows(t, ctx)
	require.Len(t, rows, len(sent))
	for i, row := range rows {
		want := sent[len(sent)-1-i]
		assert.Equal(t, want.provider, row.provider, "row %d", i)
		assert.True(t, strings.HasPrefix(row.scenario, want.scenario), "row %d scenario %q, want %q", i, row.scenario, want.scenario)
		assert.Equal(t, want.selectedBy, row.rule, "row %d", i)
		assert.Equal(t, fmt.Sprint(want.status), row.status, "row %d", i)
		assert.Contains(t, row.class, fmt.Sprintf("st-%dxx", want.status/100), "row %d colour class", i)
		assert.NotEmpty(t, row.duration, "row %d", i)
	}
	assert.Equal(t, "alice", rows[len(rows)-3].session)

	// The provider filter shows only that provider's requests.
	acme := 0
	for _, s := range sent {
		if s.provider == "acme" {
			acme++
		}
	}
	require.NoError(t, chromedp.Do(ctx,
		waitJS(`[...document.getElementById('journal-provider').options].some(o => o.value === 'acme')`),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('journal-provider'); s.value = 'acme'; s.dispatchEvent(new Event('change')); return true })()`),
		waitJS(fmt.Sprintf(`(() => { const r = [...document.querySelectorAll('#journal-rows tr')]; return r.length === %d && r.every(tr => tr.cells[1].textContent === 'acme') })()`, acme)),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('journal-provider'); s.value = ''; s.dispatchEvent(new Event('change')); return true })()`),
		waitJS(fmt.Sprintf(`document.querySelectorAll('#journal-rows tr').length === %d`, len(sent))),
	))

	// A calm picture for the README: nothing focused, the scenario list from its top.
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](
		`document.activeElement && document.activeElement.blur(); document.querySelector('.scenarios .table-wrap').scrollTop = 0`)))
	saveScreenshot(t, ctx)
}

func testPanelReloadErrors(t *testing.T, browser string) {
	m := startMock(t)
	ctx := newBrowser(t, browser)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(m.base+"/__admin/ui"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-scenario="success"]`)),
	))
	broken, err := os.ReadFile(filepath.Join("..", "..", "testdata", "panel", "broken.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(m.dir, "broken.yaml"), broken, 0o600))

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("reload")),
		chromedp.WaitVisible(chromedp.ID("reload-errors")),
	))
	errs := textOf(t, ctx, "#reload-error-list")
	assert.Regexp(t, `broken\.yaml:3\b`, errs, "the error names the file and the line of the typo")
	assert.Contains(t, errs, "stauts")
	// The old set keeps serving.
	a := m.post(t, "acme", nil)
	assert.Equal(t, http.StatusOK, a.status)

	// Fixing the file and reloading again clears the errors.
	require.NoError(t, os.Remove(filepath.Join(m.dir, "broken.yaml")))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("reload")),
		chromedp.WaitNotVisible(chromedp.ID("reload-errors")),
	))
	assert.Contains(t, textOf(t, ctx, "#notice"), "Reloaded")

	// A narrow window stacks the panel: nothing wider than the window but the tables' own scroll boxes.
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(400, 800)))
	widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[document.documentElement.scrollWidth, window.innerWidth]`))
	require.NoError(t, err)
	assert.LessOrEqual(t, widths[0], widths[1], "no horizontal scrolling of the page at 400px")
}

func testPanelAdminToken(t *testing.T, browser string) {
	m := startMock(t, "--admin-token", e2eAdminToken)
	ctx := newBrowser(t, browser)
	const dialogOpen = `document.getElementById('token-dialog').open`
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(m.base+"/__admin/"),
		waitJS(dialogOpen),
		chromedp.SendKeys(chromedp.ID("token-input"), "not-the-token\n"),
		waitJS(dialogOpen+` && document.getElementById('token-error').textContent.includes('refused')`),
		chromedp.SendKeys(chromedp.ID("token-input"), e2eAdminToken+"\n"),
		waitJS(`!`+dialogOpen+` && document.querySelectorAll('#scenario-rows tr').length > 0`),
	))
	stored, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem('fedtoken-mock.admin-token') || ''`))
	require.NoError(t, err)
	assert.Equal(t, e2eAdminToken, stored)

	// Keyboard only: focus the button, press Enter.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Focus(chromedp.CSS(`tr[data-scenario="not-found"] button.set-global`)),
		chromedp.KeyEvent(kb.Enter),
		waitJS(`document.querySelector('tr[data-scenario="not-found"]').classList.contains('is-global')`),
	))
	a := m.post(t, "acme", nil)
	assert.Equal(t, "not-found", a.scenario)
	assert.Equal(t, "global-switch", a.selectedBy)

	// A page reload in the same tab does not ask again.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Reload(),
		waitJS(`document.querySelector('tr[data-scenario="not-found"]') !== null && document.querySelector('tr[data-scenario="not-found"]').classList.contains('is-global')`),
	))
	open, err := chromedp.Run(ctx, chromedp.Evaluate[bool](dialogOpen))
	require.NoError(t, err)
	assert.False(t, open, "the token kept in sessionStorage is reused")
}

// ---- the mock process ------------------------------------------------------------------------

type mockProc struct {
	base   string
	dir    string // the --scenarios directory
	client *http.Client
}

// startMock runs the binary (built once per test run by the package's harness) on a free
// loopback port with an empty --scenarios directory, and reads the address from its log.
func startMock(t *testing.T, extra ...string) *mockProc {
	t.Helper()
	dir := t.TempDir()
	p := serveBinary(t, "", nil, append([]string{"--scenarios", dir}, extra...)...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mock log:\n%s", p.stderr.String())
		}
	})
	return &mockProc{base: "http://" + p.addr, dir: dir, client: &http.Client{Timeout: 10 * time.Second}}
}

// answer is what the token endpoint said about one request.
type answer struct {
	provider   string
	status     int
	scenario   string
	selectedBy string
}

// post sends the token request an SDK sends; headers override it ("Authorization": "" drops it).
func (m *mockProc) post(t *testing.T, provider string, headers map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, m.base+"/user/2021-2/federated-identities/"+provider+"/token", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/vnd.api+json")
	req.Header.Set("Authorization", "Bearer "+e2eBearer)
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := m.client.Do(req)
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	return answer{
		provider:   provider,
		status:     res.StatusCode,
		scenario:   res.Header.Get("X-Mock-Scenario"),
		selectedBy: res.Header.Get("X-Mock-Selected-By"),
	}
}

// ---- the browser -----------------------------------------------------------------------------

func chromiumPath() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// newBrowser starts headless Chromium with a fresh profile and a 1280×800 viewport; the machine
// has no network, so every background fetch Chromium would make is switched off.
func newBrowser(t *testing.T, browser string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// The first call starts the browser, which lives as long as that call's context: so no
	// timeout on it, only on the context the case then uses.
	require.NoError(t, chromedp.Do(bctx, chromedp.EmulateViewport(1280, 800)), "start Chromium")
	ctx, cancelTimeout := context.WithTimeout(bctx, 45*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

// journalBox is the journal's scroll box as [top, left, width, height].
const journalBox = `(() => { const r = document.getElementById('journal-wrap').getBoundingClientRect(); return [r.top, r.left, r.width, r.height] })()`

// waitJS polls a JavaScript expression until it is true.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))
}

func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	require.NoError(t, err)
	return s
}

type journalRow struct {
	class, time, provider, session, scenario, rule, status, duration string
}

func journalRows(t *testing.T, ctx context.Context) []journalRow {
	t.Helper()
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](
		`[...document.querySelectorAll('#journal-rows tr')].map(tr => [tr.className, ...[...tr.cells].map(td => td.textContent)])`))
	require.NoError(t, err)
	rows := make([]journalRow, 0, len(cells))
	for _, c := range cells {
		require.Len(t, c, 8, "class plus seven cells")
		rows = append(rows, journalRow{c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]})
	}
	return rows
}

// saveScreenshot captures the viewport and writes it where FEDTOKEN_MOCK_SCREENSHOT says.
func saveScreenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	cfg, err := png.DecodeConfig(bytes.NewReader(shot))
	require.NoError(t, err)
	assert.Equal(t, 1280, cfg.Width)
	assert.Equal(t, 800, cfg.Height)
	path := os.Getenv(screenshotEnv)
	if path == "" {
		return
	}
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, shot, 0o644))
	t.Logf("panel screenshot written to %s", path)
}
