package localaws

import (
	"fmt"
	"net"
	"net/http"
	"strings"
)

// localaws checks no signatures, so anything that can send it a request can
// read, overwrite and delete the local data. Only local programs (the
// services, the SDK, curl) may: web pages the user has open may not. A page
// reaches it in two ways, both refused here:
//   - directly (fetch, forms, <img>): the browser marks such requests with
//     Origin or Sec-Fetch-Site, which local programs never send;
//   - by DNS rebinding (a name the attacker controls, re-pointed at
//     127.0.0.1, so the request is "same-origin" for the browser): the Host
//     header then carries the attacker's name, which is not a loopback name
//     or a configured alias.
// https://fetch.spec.whatwg.org/#http-cors-protocol
// https://www.w3.org/TR/fetch-metadata/#sec-fetch-site-header

// allowedHost reports whether host (a Host header, with or without port)
// names this machine's loopback or one of aliases.
func allowedHost(host string, aliases []string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.ToLower(strings.Trim(name, "[]")), ".")
	if name == "" {
		return false
	}
	if name == "localhost" {
		return true
	}
	if ip := net.ParseIP(name); ip != nil {
		return ip.IsLoopback() // 127.0.0.0/8 and ::1
	}
	for _, a := range aliases {
		if name == strings.TrimSuffix(strings.ToLower(a), ".") {
			return true
		}
	}
	return false
}

// foreignRequest returns why r must be refused, or "" to serve it.
func foreignRequest(r *http.Request, aliases []string) string {
	if !allowedHost(r.Host, aliases) {
		return fmt.Sprintf("Host %q is not a loopback name or address, nor one of localaws's aliases (-allow-host); refused against DNS rebinding", r.Host)
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		return "CORS preflight refused: localaws answers no browser page"
	}
	if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host && o != "https://"+r.Host {
		return fmt.Sprintf("cross-origin request from %q refused: localaws answers no browser page", o)
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return fmt.Sprintf("browser request from a %s page refused: localaws answers no browser page", site)
	}
	return ""
}

// refuseForeign answers 403 in the addressed service's error shape when r
// comes from a browser page or names a foreign host. It reports whether it
// answered.
func (s *Server) refuseForeign(w http.ResponseWriter, r *http.Request, service string) bool {
	why := foreignRequest(r, s.allowedHosts)
	if why == "" {
		return false
	}
	s.log.Warn("refused request", "service", service, "method", r.Method, "path", r.URL.Path,
		"host", r.Host, "origin", r.Header.Get("Origin"), "reason", why)
	switch service {
	case "rekognition":
		writeRekError(w, http.StatusForbidden, "AccessDeniedException", why)
	case "s3":
		writeS3Error(w, r, http.StatusForbidden, "AccessDenied", why, r.URL.Path)
	default:
		http.Error(w, why, http.StatusForbidden)
	}
	return true
}

// noCORSWriter drops every Access-Control-* header before the response is
// written: gofakes3 answers Access-Control-Allow-Origin: * on GET, PUT and
// DELETE, which would let any page read the responses. Headers go out at
// the first WriteHeader, Write or Flush, or, when the handler called none
// of them (gofakes3's empty 200 to a PUT), when net/http finishes the
// response after ServeHTTP returns; ServeHTTP calls finish before that, so
// every path strips.
type noCORSWriter struct {
	http.ResponseWriter
	done bool // headers stripped and sent
}

func (n *noCORSWriter) strip() {
	if n.done {
		return
	}
	n.done = true
	h := n.Header()
	for k := range h {
		if strings.HasPrefix(http.CanonicalHeaderKey(k), "Access-Control-") {
			h.Del(k)
		}
	}
}

// finish strips the headers of a response the handler left unwritten.
func (n *noCORSWriter) finish() { n.strip() }

func (n *noCORSWriter) WriteHeader(code int) { n.strip(); n.ResponseWriter.WriteHeader(code) }

func (n *noCORSWriter) Write(p []byte) (int, error) {
	n.strip()
	return n.ResponseWriter.Write(p)
}

// FlushError sends the headers (stripped) and any buffered body; through
// http.ResponseController it is found before Unwrap.
func (n *noCORSWriter) FlushError() error {
	n.strip()
	return http.NewResponseController(n.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (n *noCORSWriter) Unwrap() http.ResponseWriter { return n.ResponseWriter }
