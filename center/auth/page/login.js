// The login page: posts JSON to /login (the session cookie is HttpOnly: the page never sees it),
// then goes to the console. A 429 says how long to wait after repeated failures.
const form = document.getElementById("login");
const error = document.getElementById("error");
const submit = document.getElementById("submit");

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  submit.disabled = true;
  error.textContent = "";
  try {
    const res = await fetch("/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        user: form.user.value,
        password: form.password.value,
        next: new URLSearchParams(location.search).get("next") ?? "/",
      }),
    });
    if (res.ok) {
      // the server checked `next`: only a path of this console (center/auth/next-path.ts)
      const body = await res.json().catch(() => ({}));
      location.assign(typeof body.next === "string" && /^\/(?![/\\])/.test(body.next) ? body.next : "/");
      return;
    }
    const body = await res.json().catch(() => ({}));
    error.textContent = body.error ?? `login failed (${res.status})`;
    form.password.value = "";
  } catch (err) {
    error.textContent = `the console does not answer: ${err.message}`;
  } finally {
    submit.disabled = false;
  }
});
document.getElementById("user").focus();
