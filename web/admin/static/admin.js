// /admin/: the pages work without this; it only marks where you are in the navigation.
for (const link of document.querySelectorAll("nav a[href^='/admin']")) {
  if (new URL(link.href).pathname === location.pathname.replace(/\/$/, "/")) link.setAttribute("aria-current", "page");
}
