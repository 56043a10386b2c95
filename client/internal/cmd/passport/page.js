// The passport page's check: run mtrace's proof verifier (Go, compiled to
// WebAssembly; wasm_exec.js is Go's loader) on the proof this page
// carries, show both answers and every check, and show the product's
// facts as the verifier renders them from the proof's signed records.
// Everything it needs is in the page's own files: no fetch, no network.
(function () {
  "use strict";
  var root = document.documentElement;

  function bytes(b64) {
    var bin = atob(b64 || "");
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function gunzip(data) {
    var stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer();
  }

  function text(id, s) { document.getElementById(id).textContent = s; }

  function show(res) {
    root.setAttribute("data-proof", res.proof);
    root.setAttribute("data-verdict", res.verdict);
    text("answer-proof", res.proof === "authentic" ? "Yes, authentic" : "No: NOT authentic");
    text("answer-verdict", res.proof !== "authentic" ? "Not established"
      : res.verdict === "holds" ? "Yes, it holds" : "No: it does NOT hold");
    text("asof", res.proof === "authentic"
      ? "As of block " + res.head + " (height " + res.height + "), " + res.time.replace("T", " ").replace("Z", " UTC") +
        "; checked against genesis " + res.genesis + "."
      : res.summary);
    document.getElementById("checks").innerHTML = res.checks;
    var facts = document.getElementById("facts");
    var warning = document.getElementById("warning");
    if (res.facts) {
      facts.innerHTML = res.facts;
      facts.classList.remove("unverified");
      warning.hidden = res.verdict === "holds";
      warning.textContent = res.verdict === "holds" ? "" :
        "The proof is authentic, but the provenance it proves does not hold: see the failed checks below.";
    } else {
      facts.classList.add("unverified");
      warning.hidden = false;
      warning.textContent = "This page's proof is NOT authentic. Nothing on this page is proven: " +
        "the text below is what the page claims, not what the ledger signed.";
    }
  }

  function check(verify, genesis) {
    show(JSON.parse(verify(bytes(window.mtraceProof), genesis)));
  }

  function fail(err) {
    root.setAttribute("data-proof", "error");
    text("answer-proof", "Not checked");
    text("answer-verdict", "Not checked");
    document.getElementById("checks").textContent =
      "Your browser could not run the verifier (" + err + "). Check the proof with 'mtrace proof verify' instead.";
  }

  if (!window.WebAssembly || !window.DecompressionStream || !window.Go) {
    fail("it lacks WebAssembly or gzip streams");
    return;
  }
  var go = new Go();
  gunzip(bytes(window.mtraceVerifier)).then(function (wasm) {
    return WebAssembly.instantiate(wasm, go.importObject);
  }).then(function (result) {
    go.run(result.instance); // defines mtraceVerify, then waits for calls
    var verify = window.mtraceVerify;
    check(verify, root.getAttribute("data-genesis"));
    document.getElementById("regenesis").addEventListener("submit", function (e) {
      e.preventDefault();
      check(verify, document.getElementById("genesis").value.trim());
    });
  }).catch(function (err) { fail(err && err.message ? err.message : String(err)); });
})();
