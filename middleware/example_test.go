package middleware_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gatehouse-iam/gatehouse/middleware"
)

// The orders service, protected by Gatehouse: its routes come from the services file that
// declares it, its own key (allowed gatehouse:GetSigningContext and gatehouse:Authorize)
// calls Gatehouse, and its handlers read the caller from the request's context.
func ExampleNew() {
	routes, err := middleware.RoutesFromServices([]byte(`
services:
  - prefix: orders
    resourceTypes:
      order: {arn: "arn:${Partition}:orders:${Region}:${Account}:order/${OrderId}"}
    actions:
      GetOrder: {accessLevel: Read, resourceTypes: [order]}
    routes:
      - {route: "GET /orders/{OrderId}", action: GetOrder, resource: order}
`), "orders")
	if err != nil {
		log.Fatal(err)
	}
	m, err := middleware.New(middleware.Config{
		Endpoint:    "https://gatehouse.internal:8443",
		Credentials: credentials.NewStaticCredentialsProvider("AKIAORDERSSERVICE", "the service's secret", ""),
		Service:     "orders", // the signing name clients use
		Routes:      routes,
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, _ := middleware.IdentityFrom(r.Context())
		fmt.Fprintf(w, "order %s for %s\n", r.PathValue("id"), id.Arn)
	})
	handler := m.Wrap(mux) // http.ListenAndServe(":9000", handler)

	// A request without a signature never reaches the mux.
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, httptest.NewRequest("GET", "/orders/17", nil))
	fmt.Println(w.Code, w.Body.String())
	// Output: 403 {"__type":"MissingAuthenticationToken","message":"Request is missing Authentication Token"}
}
