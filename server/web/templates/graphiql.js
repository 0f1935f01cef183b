// Boots GraphiQL against this hub's /graphql. It is a served file rather than an inline
// script so that the page's Content-Security-Policy can say `script-src 'self'`.
(function () {
  "use strict";

  // The README's example: one request walks member → organisations → posts → people.
  var DEFAULT_QUERY = [
    "query Kaiserslautern {",
    "  member(slug: \"kaiserslautern\") {",
    "    de: name(lang: \"de\")",
    "    zh: name(lang: \"zh-Hans\")",
    "    organisations(first: 10) {",
    "      nodes {",
    "        name",
    "        posts { label person { name } }",
    "      }",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");

  // Same origin, whatever host and port the hub is reached at; subscriptions use
  // graphql-transport-ws on the same path (CSP `connect-src 'self'` covers ws/wss there).
  var origin = window.location.origin;
  var fetcher = GraphiQL.createFetcher({
    url: origin + "/graphql",
    subscriptionUrl: origin.replace(/^http/, "ws") + "/graphql",
  });

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      defaultEditorToolsVisibility: true,
    })
  );
})();
