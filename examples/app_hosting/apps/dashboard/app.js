// Reads the service's API from the same origin: the app is served by the service itself.
async function refresh() {
  const info = await (await fetch("/api/v1/info")).json();
  document.getElementById("service").textContent = `${info.display_name} ${info.version}`;
  const configs = await (await fetch("/api/v1/configs")).json();
  const list = document.getElementById("configs");
  list.replaceChildren(...configs.map((config) => {
    const item = document.createElement("li");
    item.textContent = `${config.name} (${config.id})`;
    return item;
  }));
}

document.getElementById("create").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = new FormData(event.target).get("name");
  await fetch("/api/v1/configs", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, data: {} }),
  });
  event.target.reset();
  await refresh();
});

refresh();
