package mock

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/rs/xid"
)

// Browsers on another origin (a frontend dev server) may call both the endpoint and the admin API.
const (
	corsAllowMethods  = "POST, GET, PUT, DELETE, OPTIONS"
	corsAllowHeaders  = "Authorization, Content-Type, Accept, X-Mock-Scenario, X-Mock-Session, Prefer, API-Key, uber-trace-id"
	corsExposeHeaders = "Request-Id, X-Mock-Scenario, X-Mock-Selected-By, X-Mock-Step, X-Mock-Error"
)

// cors answers preflights for any origin, echoing it so credentialed requests work.
func cors() gin.HandlerFunc {
	return func(c *gin.Context) {
		origin := c.Request.Header.Get("Origin")
		if origin == "" {
			c.Next()
			return
		}
		h := c.Writer.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
		if c.Request.Method == http.MethodOptions && c.Request.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			if req := c.Request.Header.Get("Access-Control-Request-Headers"); req != "" {
				h.Set("Access-Control-Allow-Headers", req)
			} else {
				h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			}
			h.Set("Access-Control-Max-Age", "600")
			requestID(c) // every answer carries one, preflights too
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		c.Next()
	}
}

// recoverPanics turns a handler panic into the mock's own JSON:API 500 and keeps serving; an
// abort (how faults drop a connection) passes through to net/http.
func (s *Server) recoverPanics() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(r)
			}
			s.log.Error("handler panic", slog.String("panic", fmt.Sprint(r)), slog.String("path", c.Request.URL.Path), slog.String("stack", string(debug.Stack())))
			if c.Writer.Written() {
				panic(http.ErrAbortHandler)
			}
			rid := c.Writer.Header().Get(headerRequestID)
			if rid == "" {
				rid = xid.New().String()
				c.Writer.Header().Set(headerRequestID, rid)
			}
			writeFailure(c.Writer, rid, &mockFailure{status: http.StatusInternalServerError, code: "mock-panic", title: "The mock itself failed", detail: "fedtoken-mock hit an internal error while answering; this is a bug in the mock, not a scenario (see its log)"})
			c.Abort()
		}()
		c.Next()
	}
}

func handleNoRoute(c *gin.Context) {
	rid := requestID(c)
	writeFailure(c.Writer, rid, &mockFailure{
		status: http.StatusNotFound, code: "route-not-found", title: "Resource not found",
		detail: fmt.Sprintf("fedtoken-mock serves POST /user/2021-2/federated-identities/{identityProvider}/token (also without /user/2021-2) and /__admin/; nothing at %s %s", c.Request.Method, truncate(c.Request.URL.Path, 200)),
	})
}

func handleNoMethod(c *gin.Context) {
	rid := requestID(c)
	allow := c.Writer.Header().Get("Allow")
	writeFailure(c.Writer, rid, &mockFailure{
		status: http.StatusMethodNotAllowed, code: "method-not-allowed", title: "Method not allowed",
		detail: fmt.Sprintf("%s is not allowed here; allowed: %s", c.Request.Method, allow),
	})
}

// requestID gives every answer, error or not, a Request-Id as the real server does.
func requestID(c *gin.Context) string {
	rid := c.Writer.Header().Get(headerRequestID)
	if rid == "" {
		rid = xid.New().String()
		c.Writer.Header().Set(headerRequestID, rid)
	}
	return rid
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}
