// The operator console (docs/console.md): feeds, runs as they happen, quarantined items and
// locked fields, read and changed through /graphql with the operator's key. A served file, not
// an inline script, so that the page's Content-Security-Policy can say `script-src 'self'`.
// Whatever comes from the hub (a feed's URL, an item's id or reason) is set as text, never as
// markup: a feed is not trusted to write into the operator's page.
(function () {
  "use strict";

  var KEY_STORE = "alliance-hub.console.key"; // sessionStorage: this tab only, never a URL
  var ENDED = ["SUCCEEDED", "PARTIAL", "FAILED", "NOT_MODIFIED", "SKIPPED_LOCKED", "ABANDONED"];
  var FORMATS = { ALLIANCE_FEED: "alliance-feed/1", POPOLO: "Popolo", CSV: "CSV" };
  var LOCKABLE = ["population", "sort_name", "names"];
  var RUN_FIELDS =
    "id feed status trigger dryRun startedAt finishedAt itemsSeen created updated unchanged " +
    "deleted quarantined error";
  var RETRY_MS = 3000;

  var locale = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  var numbers = new Intl.NumberFormat(locale);
  var relative = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  var main = document.getElementById("main");
  var banner = document.getElementById("connection");

  var state = {
    key: sessionStorage.getItem(KEY_STORE),
    notice: null, // what the sign-in box says (a refused key)
    socket: null,
    live: {}, // feed slug → its newest run as the subscription pushed it
    expected: {}, // feed slug → items its last ended run saw, the bar's length
    summaries: {}, // feed slug → how its last watched run ended
    messages: {}, // feed slug → the answer to the last action on it
    httpLost: false,
    socketLost: false,
    retry: null,
    refresh: null,
  };

  // ---- building the page ----------------------------------------------------------------

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    setAll(node, attrs);
    append(node, children);
    return node;
  }

  function s(tag, attrs, children) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    setAll(node, attrs);
    append(node, children);
    return node;
  }

  function setAll(node, attrs) {
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), value);
      else if (value === true) node.setAttribute(name, "");
      else if (value !== false && value !== null && value !== undefined)
        node.setAttribute(name, String(value));
    });
  }

  function append(node, children) {
    [].concat(children === undefined ? [] : children).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
    });
  }

  function show(nodes) {
    main.replaceChildren.apply(main, [].concat(nodes));
  }

  function count(n) {
    return numbers.format(n);
  }

  function when(iso) {
    if (!iso) return h("span", { class: "muted" }, "never");
    var at = new Date(iso);
    return h("time", { datetime: iso, title: at.toLocaleString(locale) }, ago(at));
  }

  function ago(at) {
    var seconds = (at.getTime() - Date.now()) / 1000;
    var units = [
      ["day", 86400],
      ["hour", 3600],
      ["minute", 60],
    ];
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(seconds) >= units[i][1])
        return relative.format(Math.round(seconds / units[i][1]), units[i][0]);
    }
    return relative.format(Math.round(seconds), "second");
  }

  function seconds(run) {
    if (!run.finishedAt) return null;
    return Math.max(0, (new Date(run.finishedAt) - new Date(run.startedAt)) / 1000);
  }

  function lower(status) {
    return status.toLowerCase().replace(/_/g, " ");
  }

  function badge(status) {
    return h("span", { class: "status status-" + status.toLowerCase() }, lower(status));
  }

  // ---- talking to the hub ---------------------------------------------------------------

  function Refusal(kind, message, code) {
    this.kind = kind; // "key", "role", "network" or "graphql"
    this.message = message;
    this.code = code;
  }

  // POSTs a GraphQL document with the key; resolves to its data, rejects with a Refusal.
  function ask(query, variables, key) {
    var token = key || state.key;
    return fetch("/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
        authorization: "Bearer " + token,
      },
      body: JSON.stringify({ query: query, variables: variables || {} }),
    }).then(
      function (response) {
        httpFound();
        return response.json().then(
          function (body) {
            return answered(response, body);
          },
          function () {
            throw new Refusal("graphql", "The hub answered " + response.status + ".");
          }
        );
      },
      function () {
        httpLost();
        throw new Refusal("network", "The hub cannot be reached; the console tries again.");
      }
    );
  }

  function answered(response, body) {
    var first = (body.errors || [])[0];
    var code = first && first.extensions && first.extensions.code;
    if (response.status === 401)
      throw new Refusal(
        "key",
        "The hub does not know this key, or it was revoked" +
          (first ? " (" + first.message + ")." : "."),
        code
      );
    if (code === "FORBIDDEN")
      throw new Refusal(
        "role",
        "This key is not an operator's: the console needs a key made with --role operator.",
        code
      );
    if (first) throw new Refusal("graphql", first.message, code);
    if (!response.ok) throw new Refusal("graphql", "The hub answered " + response.status + ".");
    return body.data;
  }

  // What a view does with a refusal: a refused key signs out, the rest is said in the page.
  function failed(refusal) {
    if (!(refusal instanceof Refusal)) throw refusal;
    if (refusal.kind === "key" || refusal.kind === "role") return signOut(refusal.message);
    if (refusal.kind === "network") return; // the banner says it, and the view comes back
    show(h("p", { class: "error", role: "alert" }, refusal.message));
  }

  function httpLost() {
    if (!state.key) return; // signing in: the box says it, and nothing is retried
    state.httpLost = true;
    say();
    if (!state.retry) state.retry = setInterval(render, RETRY_MS);
  }

  function httpFound() {
    if (!state.httpLost) return;
    state.httpLost = false;
    clearInterval(state.retry);
    state.retry = null;
    say();
  }

  function say() {
    var lost = state.key && (state.httpLost || state.socketLost);
    banner.hidden = !lost;
    banner.textContent = !lost
      ? ""
      : state.socketLost === "refused"
        ? "The hub refused more live connections for this key (too many open tabs?): runs " +
          "no longer update by themselves. Close other console tabs and reload this one."
        : "The connection to the hub was lost; reconnecting…";
  }

  // The live connection: one graphql-ws client per sign-in, reconnecting by itself; it carries
  // one subscription to every feed's runs, which keeps the feeds' bars moving.
  function connect() {
    var opened = false;
    var socket = graphqlWs.createClient({
      url: location.origin.replace(/^http/, "ws") + "/graphql",
      connectionParams: function () {
        return { authorization: "Bearer " + state.key };
      },
      lazy: false,
      keepAlive: 10000,
      retryAttempts: Infinity,
      shouldRetry: function (event) {
        return !(event && event.code === 4403);
      },
      retryWait: function (retries) {
        return new Promise(function (resolve) {
          setTimeout(resolve, Math.min(5000, 250 * Math.pow(2, retries)));
        });
      },
      on: {
        connected: function () {
          var again = opened;
          opened = true;
          state.socketLost = false;
          say();
          if (again && onFeedsList()) render(); // catch up on runs that ended meanwhile
        },
        closed: function (event) {
          if (socket !== state.socket) return;
          if (event && event.code === 4403) return signOut("The hub refused the key: " + event.reason);
          state.socketLost = event && event.code === 4429 ? "refused" : true; // 4429: not retried
          say();
        },
      },
    });
    state.socket = socket;
    socket.subscribe(
      { query: "subscription { syncRuns { " + RUN_FIELDS + " } }" },
      {
        next: function (result) {
          if (result.data) ran(result.data.syncRuns);
        },
        error: function () {},
        complete: function () {},
      }
    );
  }

  function disconnect() {
    var socket = state.socket;
    state.socket = null;
    if (socket) socket.dispose();
  }

  // ---- signing in and out ---------------------------------------------------------------

  function signIn() {
    document.getElementById("nav").hidden = true;
    var input = h("input", {
      id: "key",
      type: "password",
      autocomplete: "off",
      spellcheck: "false",
      required: true,
      "aria-describedby": "key-help key-error",
    });
    var error = h("p", { id: "key-error", class: "field-error", role: "alert" }, state.notice);
    var button = h("button", { type: "submit" }, "Sign in");
    var form = h("form", { id: "sign-in", onsubmit: submit }, [
      h("label", { for: "key" }, "Operator key"),
      h("div", { class: "row" }, [input, button]),
      error,
    ]);
    function submit(event) {
      event.preventDefault();
      var key = input.value.trim();
      if (!key) return;
      button.disabled = true;
      error.textContent = "";
      ask("{ feeds { slug } }", {}, key).then(
        function () {
          sessionStorage.setItem(KEY_STORE, key);
          state.key = key;
          state.notice = null;
          connect();
          if (location.hash && location.hash !== "#/") render();
          else location.hash = "#/feeds";
        },
        function (refusal) {
          button.disabled = false;
          error.textContent = refusal.message || "The hub refused the key.";
          input.focus();
        }
      );
    }
    show(
      h("section", { class: "sign-in" }, [
        h("h1", {}, "Sign in"),
        h("p", { id: "key-help" }, [
          "Paste an operator key, made with ",
          h("code", {}, "alliance keys create NAME --role operator"),
          ". It stays in this browser tab until you sign out or close the tab.",
        ]),
        form,
      ])
    );
    input.focus();
  }

  function signOut(notice) {
    sessionStorage.removeItem(KEY_STORE);
    state.key = null;
    state.notice = notice || null;
    state.httpLost = state.socketLost = false;
    clearInterval(state.retry);
    state.retry = null;
    say();
    disconnect();
    render();
  }

  // ---- routing ----------------------------------------------------------------------------

  function route() {
    var hash = location.hash.replace(/^#\/?/, "");
    var at = hash.indexOf("?");
    var path = (at < 0 ? hash : hash.slice(0, at)).split("/").map(decodeURIComponent);
    var params = new URLSearchParams(at < 0 ? "" : hash.slice(at + 1));
    return { page: path[0] || "feeds", arg: path[1], params: params };
  }

  function render() {
    if (!state.key) return signIn();
    document.getElementById("nav").hidden = false;
    var where = route();
    markCurrent(where.page);
    var views = {
      feeds: feedsPage,
      quarantine: quarantinePage,
      locks: locksPage,
      record: recordPage,
    };
    (views[where.page] || feedsPage)(where);
  }

  // Only the list of feeds is drawn again by itself: another page may hold what the operator
  // is typing.
  function onFeedsList() {
    var where = route();
    return where.page === "feeds" && !where.arg;
  }

  function markCurrent(page) {
    document.querySelectorAll("#nav a").forEach(function (link) {
      var current = link.getAttribute("href") === "#/" + page;
      if (current) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
  }

  // ---- feeds ------------------------------------------------------------------------------

  var FEEDS =
    "slug url format mode schedule enabled state nextEligibleAt consecutiveFailures " +
    "lastSuccessAt maxBadShare maxDeleteShare runs(first: 20) { " +
    RUN_FIELDS +
    " }";

  function feedsPage(where) {
    if (where.arg) return feedPage(where.arg);
    ask("{ feeds { " + FEEDS + " } }").then(function (data) {
      var cards = data.feeds.map(feedCard);
      show([
        h("h1", {}, "Feeds"),
        cards.length
          ? h("div", { class: "feeds" }, cards)
          : h("p", {}, "No feeds yet: add one with alliance feeds add, or createFeed."),
      ]);
    }, failed);
  }

  function feedPage(slug) {
    ask(
      "query ($slug: String!) { feed(slug: $slug) { " + FEEDS + " } }",
      { slug: slug }
    ).then(function (data) {
      var feed = data.feed;
      show([
        h("p", { class: "crumbs" }, h("a", { href: "#/feeds" }, "← All feeds")),
        h("h1", {}, ["Feed ", h("code", {}, feed.slug)]),
        feedCard(feed),
        settingsForm(feed),
        h("h2", {}, "Runs"),
        runsTable(feed.runs),
        h("p", {}, h("a", { href: "#/quarantine?feed=" + encodeURIComponent(feed.slug) }, [
          "Quarantined items of ",
          feed.slug,
        ])),
      ]);
    }, failed);
  }

  function feedCard(feed) {
    var ended = feed.runs.filter(function (run) {
      return ENDED.indexOf(run.status) >= 0 && !run.dryRun;
    });
    var last = ended[0];
    var measured = ended.filter(function (run) {
      return run.itemsSeen > 0;
    })[0];
    if (measured) state.expected[feed.slug] = measured.itemsSeen;
    var under = feed.runs.filter(function (run) {
      return ENDED.indexOf(run.status) < 0 && !run.dryRun;
    })[0];
    var known = state.live[feed.slug];
    if (under && (!known || known.id < under.id)) state.live[feed.slug] = under;

    var card = h("article", { class: "feed", "data-feed": feed.slug, "aria-label": feed.slug }, [
      h("header", {}, [
        h("h2", {}, h("a", { href: "#/feeds/" + encodeURIComponent(feed.slug) }, feed.slug)),
        h("span", { class: "state state-" + feed.state.toLowerCase() }, stateText(feed)),
      ]),
      h("p", { class: "meta" }, [
        FORMATS[feed.format] || feed.format,
        " · ",
        feed.mode.toLowerCase(),
        " · every ",
        feed.schedule,
      ]),
      h("p", { class: "url" }, feed.url),
      feed.state === "RESTING"
        ? h("p", { class: "resting" }, [
            "Resting after " + count(feed.consecutiveFailures) +
              (feed.consecutiveFailures === 1 ? " failed run" : " failed runs") +
              "; its schedule runs it again ",
            when(feed.nextEligibleAt),
            ".",
          ])
        : null,
      h(
        "p",
        { class: "last" },
        last
          ? ["Last run: ", badge(last.status), " ", when(last.finishedAt || last.startedAt)]
          : "No run yet."
      ),
      chart(ended.slice(0, 20).reverse()),
      h("div", { class: "live", hidden: true }, [
        h("progress", { max: 1, "aria-label": "Run of " + feed.slug }),
        h("p", { class: "counts" }),
      ]),
      h("p", { class: "summary", role: "status" }, state.summaries[feed.slug]),
      actions(feed),
      h("p", { class: "field-error", role: "alert" }, state.messages[feed.slug]),
    ]);
    progress(card, state.live[feed.slug]);
    return card;
  }

  function stateText(feed) {
    return { ENABLED: "enabled", PAUSED: "paused", RESTING: "resting" }[feed.state] || feed.state;
  }

  // Items per run as bars, durations as a line, oldest to newest in 20 slots, the newest on
  // the right: a feed going bad shows as red bars, shrinking bars or a rising line. A run that
  // saw nothing still shows, as a stub in its colour.
  function chart(runs) {
    var width = 200,
      height = 48,
      slots = 20,
      stub = 4;
    if (!runs.length) return h("p", { class: "chart-empty muted" }, "No runs to chart yet.");
    var most = Math.max.apply(null, runs.map(function (r) { return r.itemsSeen; }).concat([1]));
    var times = runs.map(seconds);
    var longest = Math.max.apply(null, times.map(function (t) { return t || 0; }).concat([0.001]));
    var step = width / slots;
    var left = (slots - runs.length) * step;
    var bars = runs.map(function (run, i) {
      var tall = Math.max(stub, Math.round((run.itemsSeen / most) * (height - 4)));
      return s("rect", {
        class: "bar bar-" + run.status.toLowerCase(),
        x: (left + i * step + 1).toFixed(1),
        y: height - tall,
        width: Math.max(1, step - 2).toFixed(1),
        height: tall,
      }, s("title", {}, "Run " + run.id + ": " + lower(run.status) + ", " + count(run.itemsSeen) + " items, " + (times[i] === null ? "–" : times[i].toFixed(1) + " s")));
    });
    var points = times
      .map(function (t, i) {
        var y = height - 2 - ((t || 0) / longest) * (height - 6);
        return (left + i * step + step / 2).toFixed(1) + "," + y.toFixed(1);
      })
      .join(" ");
    var label =
      "Last " + runs.length + " runs: up to " + count(most) + " items, longest " +
      longest.toFixed(1) + " s";
    return h("figure", { class: "chart" }, [
      s("svg", { viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": label }, [
        s("title", {}, label),
      ].concat(bars, [s("polyline", { class: "duration", points: points })])),
      h("figcaption", { class: "muted" }, "Items per run (bars) and duration (line), oldest first"),
    ]);
  }

  function actions(feed) {
    var slug = feed.slug;
    var paused = feed.state === "PAUSED";
    return h("div", { class: "actions" }, [
      h("button", { type: "button", onclick: function () { trigger(slug, false); } }, "Sync now"),
      h("button", { type: "button", onclick: function () { trigger(slug, true); } }, "Dry run"),
      h("button", { type: "button", onclick: function () { pause(slug, !paused); } }, paused ? "Resume" : "Pause"),
      h("button", { type: "button", class: "danger", onclick: function () { remove(slug); } }, "Delete"),
    ]);
  }

  function errorsText(errors) {
    return errors
      .map(function (e) {
        return (e.field ? e.field + ": " : "") + e.message + " (" + e.code + ")";
      })
      .join(" ");
  }

  function trigger(slug, dry) {
    state.messages[slug] = null;
    ask(
      "mutation ($feed: String!, $dry: Boolean!) { triggerSync(feed: $feed, dryRun: $dry) { " +
        "run { " + RUN_FIELDS + " } dryRun { status itemsSeen created updated unchanged " +
        "deleted quarantined error } errors { field code message } } }",
      { feed: slug, dry: dry }
    ).then(function (data) {
      var answer = data.triggerSync;
      if (answer.errors.length) state.messages[slug] = errorsText(answer.errors);
      if (answer.dryRun) state.summaries[slug] = "Dry run, nothing written: " + told(answer.dryRun, true);
      else if (answer.run) {
        if (!answer.errors.length) state.summaries[slug] = null;
        ran(answer.run); // queued now, or the run already under way (RUN_UNDER_WAY)
      }
      said(slug); // in place: the answer stays beside the buttons, even for a feed now gone
    }, failed);
  }

  function pause(slug, pausing) {
    var field = pausing ? "pauseFeed" : "resumeFeed";
    ask(
      "mutation ($slug: String!) { " + field + "(slug: $slug) { feed { slug } errors { field code message } } }",
      { slug: slug }
    ).then(function (data) {
      var errors = data[field].errors;
      state.messages[slug] = errors.length ? errorsText(errors) : null;
      render();
    }, failed);
  }

  function remove(slug) {
    confirmed(
      "Delete the feed " + slug + "?",
      "It stops syncing. Its records and runs stay; its queued runs end unstarted."
    ).then(function (yes) {
      if (!yes) return;
      ask(
        "mutation ($slug: String!) { deleteFeed(slug: $slug) { slug errors { field code message } } }",
        { slug: slug }
      ).then(function (data) {
        var errors = data.deleteFeed.errors;
        if (errors.length) state.messages[slug] = errorsText(errors);
        if (errors.length || location.hash === "#/feeds") render();
        else location.hash = "#/feeds";
      }, failed);
    });
  }

  function confirmed(title, text) {
    var dialog = document.getElementById("confirm");
    document.getElementById("confirm-title").textContent = title;
    document.getElementById("confirm-text").textContent = text;
    return new Promise(function (resolve) {
      function done(answer) {
        ok.removeEventListener("click", yes);
        cancel.removeEventListener("click", no);
        dialog.removeEventListener("cancel", no);
        if (dialog.open) dialog.close();
        resolve(answer);
      }
      function yes() { done(true); }
      function no() { done(false); }
      var ok = document.getElementById("confirm-ok");
      var cancel = document.getElementById("confirm-cancel");
      ok.addEventListener("click", yes);
      cancel.addEventListener("click", no);
      dialog.addEventListener("cancel", no);
      dialog.showModal();
    });
  }

  // A run's state as the subscription (or triggerSync) gives it.
  function ran(run) {
    if (run.dryRun) return;
    var known = state.live[run.feed];
    if (known && known.id > run.id) return; // an older run's late news
    state.live[run.feed] = run;
    if (ENDED.indexOf(run.status) >= 0) {
      state.summaries[run.feed] = "Run " + run.id + " " + lower(run.status) + ": " + told(run, false);
      if (run.itemsSeen > 0) state.expected[run.feed] = run.itemsSeen;
      clearTimeout(state.refresh);
      if (onFeedsList()) state.refresh = setTimeout(render, 400); // its history and chart
    }
    cardsOf(run.feed).forEach(function (card) {
      progress(card, run);
    });
    said(run.feed);
  }

  function cardsOf(slug) {
    return [].filter.call(document.querySelectorAll("article.feed"), function (card) {
      return card.dataset.feed === slug;
    });
  }

  // The feed's cards show what the console last heard of it: a run's summary, a refusal.
  function said(slug) {
    cardsOf(slug).forEach(function (card) {
      card.querySelector(".summary").textContent = state.summaries[slug] || "";
      card.querySelector(".field-error").textContent = state.messages[slug] || "";
    });
  }

  function told(run, dry) {
    var parts = [
      count(run.itemsSeen) + " items",
      count(run.created) + (dry ? " to create" : " created"),
      count(run.updated) + (dry ? " to update" : " updated"),
      count(run.unchanged) + " unchanged",
      count(run.deleted) + (dry ? " to delete" : " deleted"),
      count(run.quarantined) + " quarantined",
    ];
    var took = dry ? null : seconds(run);
    var text = parts.join(", ") + (took === null ? "" : ", in " + took.toFixed(1) + " s");
    return run.error ? text + ". " + run.error : text + ".";
  }

  // The bar runs to the count of the feed's last measured run (its length is not known before
  // the end); past it, or with nothing to go by, it runs without an end until the run ends.
  function progress(card, run) {
    var live = card.querySelector(".live");
    if (!run) return;
    var bar = live.querySelector("progress");
    var ended = ENDED.indexOf(run.status) >= 0;
    var expected = state.expected[run.feed];
    live.hidden = false;
    bar.dataset.run = run.id;
    bar.dataset.status = run.status;
    if (ended) {
      bar.max = Math.max(run.itemsSeen, 1);
      bar.value = bar.max;
    } else if (expected && run.itemsSeen <= expected) {
      bar.max = expected;
      bar.value = run.itemsSeen;
    } else {
      bar.removeAttribute("value");
    }
    var of = !ended && expected ? " of about " + count(expected) : "";
    live.querySelector(".counts").hidden = ended; // the summary says it then
    live.querySelector(".counts").textContent =
      "Run " + run.id + ", " + lower(run.status) + ": " + count(run.itemsSeen) + of +
      " items seen, " + count(run.created) + " created, " + count(run.updated) + " updated, " +
      count(run.unchanged) + " unchanged, " + count(run.quarantined) + " quarantined";
  }

  function settingsForm(feed) {
    var fields = [
      ["url", "URL", "url", feed.url],
      ["schedule", "Schedule (15m, 1h, 1d or cron)", "text", feed.schedule],
      ["maxBadShare", "Largest share of items quarantined", "number", feed.maxBadShare],
      ["maxDeleteShare", "Largest share of records deleted", "number", feed.maxDeleteShare],
    ];
    var inputs = {};
    var errors = {};
    var done = h("p", { class: "done", role: "status" });
    var rows = fields.map(function (f) {
      var id = "setting-" + f[0];
      inputs[f[0]] = h("input", {
        id: id,
        name: f[0],
        type: f[2],
        value: f[3],
        step: f[2] === "number" ? "0.01" : null,
        min: f[2] === "number" ? "0" : null,
        max: f[2] === "number" ? "1" : null,
        "aria-describedby": id + "-error",
      });
      errors[f[0]] = h("span", { id: id + "-error", class: "field-error", role: "alert" });
      return h("div", { class: "field" }, [h("label", { for: id }, f[1]), inputs[f[0]], errors[f[0]]]);
    });
    function submit(event) {
      event.preventDefault();
      Object.keys(errors).forEach(function (k) { errors[k].textContent = ""; });
      done.textContent = "";
      var settings = { url: inputs.url.value, schedule: inputs.schedule.value };
      ["maxBadShare", "maxDeleteShare"].forEach(function (name) {
        if (inputs[name].value !== "") settings[name] = parseFloat(inputs[name].value);
      });
      ask(
        "mutation ($slug: String!, $settings: FeedSettingsInput!) { updateFeed(slug: $slug, " +
          "settings: $settings) { feed { slug } errors { field code message } } }",
        { slug: feed.slug, settings: settings }
      ).then(function (data) {
        var found = data.updateFeed.errors;
        found.forEach(function (e) {
          var camel = (e.field || "").replace(/_([a-z])/g, function (_, c) { return c.toUpperCase(); });
          var beside = errors[camel] || done;
          beside.textContent = e.message + " (" + e.code + ")";
        });
        if (!found.length) render(); // the card above shows the feed as it is now
      }, failed);
    }
    return h("form", { class: "settings", onsubmit: submit, "aria-labelledby": "settings-title" }, [
      h("h2", { id: "settings-title" }, "Settings"),
    ].concat(rows, [h("button", { type: "submit" }, "Save"), done]));
  }

  function runsTable(runs) {
    if (!runs.length) return h("p", {}, "No runs yet.");
    var head = ["Run", "Status", "Started", "Took", "Seen", "Created", "Updated", "Unchanged", "Deleted", "Quarantined", "Error"];
    return h("div", { class: "scroll" }, h("table", { class: "runs" }, [
      h("thead", {}, h("tr", {}, head.map(function (t) { return h("th", { scope: "col" }, t); }))),
      h("tbody", {}, runs.map(function (run) {
        var took = seconds(run);
        return h("tr", {}, [
          h("td", {}, String(run.id)),
          h("td", {}, badge(run.status)),
          h("td", {}, when(run.startedAt)),
          h("td", {}, took === null ? "–" : took.toFixed(1) + " s"),
          h("td", { class: "n" }, count(run.itemsSeen)),
          h("td", { class: "n" }, count(run.created)),
          h("td", { class: "n" }, count(run.updated)),
          h("td", { class: "n" }, count(run.unchanged)),
          h("td", { class: "n" }, count(run.deleted)),
          h("td", { class: "n" }, run.quarantined
            ? h("a", { href: "#/quarantine?run=" + run.id }, count(run.quarantined))
            : "0"),
          h("td", {}, run.error || ""),
        ]);
      })),
    ]));
  }

  // ---- quarantined items ----------------------------------------------------------------

  function quarantinePage(where) {
    var feed = where.params.get("feed") || "";
    var run = where.params.get("run") || "";
    var text = where.params.get("q") || "";
    var shown = [];
    var list = h("ul", { class: "issues", "aria-live": "polite", "aria-busy": "true", "data-feed": feed, "data-run": run });
    var tally = h("p", { class: "tally", role: "status" });
    var more = h("button", { type: "button", hidden: true, onclick: function () { page(more.dataset.after); } }, "Show more");
    var feedSelect = h("select", { id: "issue-feed", name: "feed" }, h("option", { value: "" }, "every feed"));
    var runInput = h("input", { id: "issue-run", name: "run", type: "number", min: "1", value: run, inputmode: "numeric" });
    var filter = h("input", { id: "issue-filter", name: "q", type: "search", value: text, placeholder: "type, id or reason" });
    var problem = h("p", { class: "field-error", role: "alert" });

    function go(event) {
      if (event) event.preventDefault();
      var params = new URLSearchParams();
      if (feedSelect.value) params.set("feed", feedSelect.value);
      if (runInput.value) params.set("run", runInput.value);
      if (filter.value) params.set("q", filter.value);
      var next = "#/quarantine" + (params.toString() ? "?" + params : "");
      if (next === location.hash) render();
      else location.hash = next;
    }

    function matches(issue) {
      var wanted = filter.value.trim().toLowerCase();
      if (!wanted) return true;
      return [issue.itemType, issue.itemId, issue.message, issue.stage, issue.position]
        .join(" ")
        .toLowerCase()
        .indexOf(wanted) >= 0;
    }

    function redraw() {
      var kept = shown.filter(matches);
      list.replaceChildren.apply(list, kept.map(issueItem));
      tally.textContent =
        count(kept.length) + " of " + count(shown.length) + " quarantined items loaded" +
        (filter.value.trim() ? " match “" + filter.value.trim() + "”" : "");
    }

    function page(after) {
      ask(
        "query ($feed: String, $run: Int, $after: String) { syncIssues(feed: $feed, run: $run, " +
          "first: 100, after: $after) { nodes { id runId itemType itemId position stage message " +
          "snippet createdAt record } pageInfo { hasNextPage endCursor } } }",
        { feed: feed || null, run: run ? parseInt(run, 10) : null, after: after || null }
      ).then(function (data) {
        shown = shown.concat(data.syncIssues.nodes);
        more.hidden = !data.syncIssues.pageInfo.hasNextPage;
        more.dataset.after = data.syncIssues.pageInfo.endCursor || "";
        list.removeAttribute("aria-busy");
        redraw();
      }, function (refusal) {
        if (refusal instanceof Refusal && refusal.kind === "graphql") problem.textContent = refusal.message;
        else failed(refusal);
      });
    }

    filter.addEventListener("input", redraw);
    ask("{ feeds { slug } }").then(function (data) {
      data.feeds.forEach(function (f) {
        feedSelect.appendChild(h("option", { value: f.slug, selected: f.slug === feed }, f.slug));
      });
      show([
        h("h1", {}, "Quarantined items"),
        h("form", { class: "filters", onsubmit: go, role: "search" }, [
          h("div", { class: "field" }, [h("label", { for: "issue-feed" }, "Feed"), feedSelect]),
          h("div", { class: "field" }, [h("label", { for: "issue-run" }, "Run"), runInput]),
          h("div", { class: "field" }, [h("label", { for: "issue-filter" }, "Filter"), filter]),
          h("button", { type: "submit" }, "Show"),
          problem,
        ]),
        tally,
        list,
        more,
      ]);
      page(null);
    }, failed);
  }

  function issueItem(issue) {
    return h("li", { "data-issue": issue.id }, h("details", {}, [
      h("summary", {}, [
        h("span", { class: "type" }, issue.itemType || "no type"),
        " ",
        h("code", { class: "item-id" }, issue.itemId || "no id"),
        " ",
        h("span", { class: "stage" }, issue.stage),
        " ",
        h("span", { class: "muted" }, ["run " + issue.runId + ", ", when(issue.createdAt)]),
      ]),
      h("div", { class: "reason" }, [
        h("h3", {}, "Why"),
        h("pre", { class: "message" }, issue.message),
        issue.position ? h("p", {}, ["At ", h("code", {}, issue.position), " in the feed."]) : null,
        issue.snippet ? h("h3", {}, "The item") : null,
        issue.snippet ? h("pre", { class: "snippet" }, issue.snippet) : null,
        issue.record
          ? h("p", {}, h("a", { href: "#/record/" + encodeURIComponent(issue.record) }, "Open the record it stands for"))
          : h("p", { class: "muted" }, "No record: the hub never took a version of this item."),
      ]),
    ]));
  }

  // ---- records and locked fields --------------------------------------------------------

  function locksPage() {
    ask("{ lockedFields { record field lockedBy lockedAt } }").then(function (data) {
      var locks = data.lockedFields;
      show([
        h("h1", {}, "Locked fields"),
        h("p", {}, "Feeds leave these fields as an operator set them. Lock and unlock them from a record's page."),
        locks.length
          ? h("ul", { class: "locks" }, locks.map(function (lock) {
              return h("li", {}, [
                h("code", {}, lock.field),
                " of ",
                h("a", { href: "#/record/" + encodeURIComponent(lock.record) }, lock.record),
                h("span", { class: "muted" }, [" locked by " + (lock.lockedBy || "someone") + " ", when(lock.lockedAt)]),
              ]);
            }))
          : h("p", { class: "muted" }, "No field is locked."),
      ]);
    }, failed);
  }

  function recordPage(where) {
    var id = where.arg;
    ask(
      "query ($id: ID!) { node(id: $id) { __typename id ... on Named { slug defaultLang " +
        "names { value lang kind } } } lockedFields { record field lockedBy lockedAt } }",
      { id: id }
    ).then(function (data) {
      var record = data.node;
      if (!record) return show([h("h1", {}, "No such record"), h("p", {}, ["The hub holds no record ", h("code", {}, id), "."])]);
      var locks = data.lockedFields.filter(function (lock) { return lock.record === id; });
      var official = (record.names || []).filter(function (n) { return n.kind === "OFFICIAL"; });
      show([
        h("p", { class: "crumbs" }, h("a", { href: "#/locks" }, "← Locked fields")),
        h("h1", {}, [record.__typename + " ", h("code", {}, record.slug || record.id)]),
        official.length
          ? h("ul", { class: "names" }, official.map(function (n) {
              return h("li", {}, [h("span", { lang: n.lang, class: "name" }, n.value), " ", h("span", { class: "muted" }, n.lang)]);
            }))
          : null,
        h("p", { class: "muted" }, ["Global id ", h("code", {}, record.id)]),
        h("h2", {}, "Locked fields"),
        locks.length
          ? h("ul", { class: "locks" }, locks.map(function (lock) { return lockItem(id, lock); }))
          : h("p", { class: "muted" }, "Feeds may write every field of this record."),
        lockForm(id),
      ]);
    }, failed);
  }

  function lockItem(id, lock) {
    var error = h("span", { class: "field-error", role: "alert" });
    return h("li", {}, [
      h("code", {}, lock.field),
      h("span", { class: "muted" }, [" locked by " + (lock.lockedBy || "someone") + " ", when(lock.lockedAt), " "]),
      h("button", { type: "button", onclick: function () { changeLock(id, lock.field, false, error); } }, "Unlock " + lock.field),
      error,
    ]);
  }

  function lockForm(id) {
    var select = h("select", { id: "lock-field", "aria-describedby": "lock-error" }, LOCKABLE.map(function (f) {
      return h("option", { value: f }, f);
    }));
    var error = h("span", { id: "lock-error", class: "field-error", role: "alert" });
    return h("form", { class: "lock", onsubmit: function (event) {
      event.preventDefault();
      changeLock(id, select.value, true, error);
    } }, [h("label", { for: "lock-field" }, "Lock a field"), select, h("button", { type: "submit" }, "Lock"), error]);
  }

  function changeLock(id, field, locking, error) {
    var name = locking ? "lockField" : "unlockField";
    error.textContent = "";
    ask(
      "mutation ($id: ID!, $field: String!) { " + name + "(record: $id, field: $field) { " +
        "lock { field } errors { field code message } } }",
      { id: id, field: field }
    ).then(function (data) {
      var errors = data[name].errors;
      if (errors.length) error.textContent = errorsText(errors);
      else render();
    }, failed);
  }

  // ---- start ------------------------------------------------------------------------------

  document.querySelector(".skip").addEventListener("click", function (event) {
    event.preventDefault(); // the address names pages; focus the content instead
    main.focus();
  });
  document.getElementById("sign-out").addEventListener("click", function () {
    signOut(null);
  });
  window.addEventListener("hashchange", function () {
    render();
    main.focus();
  });
  if (state.key) connect();
  render();
})();
