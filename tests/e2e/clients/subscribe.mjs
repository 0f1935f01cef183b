// Follow `changes` on an Alliance Hub with graphql-ws, the protocol's reference client.
// node subscribe.mjs <ws-url> <token> <count>: prints each change as a JSON line, then exits 0;
// a subscription error exits 1, no `count` changes within 60 s exits 2.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, token, count] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  retryAttempts: 0,
});
const timer = setTimeout(() => process.exit(2), 60_000);
let seen = 0;
console.log(JSON.stringify({ ready: true }));
client.subscribe(
  { query: "subscription { changes(types: [MEMBER]) { action version node { ... on Member { slug population } } } }" },
  {
    next: (result) => {
      console.log(JSON.stringify(result));
      seen += 1;
      if (seen >= Number(count)) {
        clearTimeout(timer);
        client.dispose();
        process.exit(0);
      }
    },
    error: (error) => {
      console.log(JSON.stringify({ error: String(error?.reason ?? error?.message ?? error) }));
      process.exit(1);
    },
    complete: () => {},
  },
);
