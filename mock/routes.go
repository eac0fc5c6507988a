package mock

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Token endpoint paths: clients configured with the API's base URL use the first, those that
// strip the version prefix the second.
const (
	tokenPath         = "/user/2021-2/federated-identities/:provider/token"
	tokenPathNoPrefix = "/federated-identities/:provider/token"
)

// routes maps the whole surface; endpoint and admin choose which halves this handler serves.
func (s *Server) routes(endpoint, admin bool) http.Handler {
	// gin.New, not gin.Default: no logger or recovery we did not choose, and no global mode flipped.
	e := gin.New()
	e.UseRawPath = true         // a provider with an encoded slash still reaches its route
	e.UnescapePathValues = true // ... and arrives decoded
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	e.Use(s.recoverPanics(), cors())
	e.NoRoute(handleNoRoute)
	e.NoMethod(handleNoMethod)

	if endpoint {
		token := s.handleToken()
		e.POST(tokenPath, token)
		e.POST(tokenPathNoPrefix, token)
	}
	if admin {
		a := e.Group("/__admin")
		a.GET("/health", s.handleHealth())
		g := a.Group("", s.admin.require())
		g.GET("/scenarios", s.handleScenarios())
		g.GET("/state", s.handleState())
		g.PUT("/scenario", s.handleSetSwitch(scopeGlobal))
		g.DELETE("/scenario", s.handleClearSwitch(scopeGlobal))
		g.PUT("/providers/:provider", s.handleSetSwitch(scopeProvider))
		g.DELETE("/providers/:provider", s.handleClearSwitch(scopeProvider))
		g.GET("/sessions", s.handleSessions())
		g.DELETE("/sessions/:session", s.handleDropSession())
		g.PUT("/sessions/:session/scenario", s.handleSetSwitch(scopeSession))
		g.DELETE("/sessions/:session/scenario", s.handleClearSwitch(scopeSession))
		g.PUT("/sessions/:session/providers/:provider", s.handleSetSwitch(scopeSessionProvider))
		g.DELETE("/sessions/:session/providers/:provider", s.handleClearSwitch(scopeSessionProvider))
		g.POST("/reset", s.handleReset())
		g.POST("/reload", s.handleReload())
		g.GET("/requests", s.handleRequests())
		g.DELETE("/requests", s.handleClearRequests())
		s.routePanel(a, g)
	}
	return e
}
