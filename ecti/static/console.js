// The console shell: the navigation's menu button on narrow screens, and the account menu
// (a <details> element: it opens by click, Enter or Space without any script; this adds
// Escape and closing when the focus or a click goes elsewhere).
(function () {
  "use strict";
  const toggle = document.querySelector(".ecti-nav-toggle");
  const nav = document.getElementById("ecti-nav");
  if (toggle && nav) {
    const setOpen = (open) => {
      nav.classList.toggle("ecti-nav_open", open);
      toggle.setAttribute("aria-expanded", String(open));
    };
    toggle.addEventListener("click", () => {
      const open = !nav.classList.contains("ecti-nav_open");
      setOpen(open);
      if (open) {
        const first = nav.querySelector("a");
        if (first) first.focus();
      }
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && nav.classList.contains("ecti-nav_open")) {
        setOpen(false);
        toggle.focus();
      }
    });
    document.addEventListener("click", (event) => {
      if (nav.classList.contains("ecti-nav_open") && !nav.contains(event.target) && !toggle.contains(event.target)) setOpen(false);
    });
  }

  // Wide tables scroll inside their own box instead of the page scrolling sideways; a box
  // that scrolls can be reached and scrolled with the keyboard.
  const scrollers = [];
  for (const table of document.querySelectorAll(".ecti-main table.grid")) {
    let box = table.parentElement;
    if (!box.classList.contains("table-scroll")) {
      box = document.createElement("div");
      box.className = "table-scroll";
      table.parentNode.insertBefore(box, table);
      box.appendChild(table);
    }
    scrollers.push(box);
  }
  for (const box of document.querySelectorAll(".ecti-main .table-scroll")) if (!scrollers.includes(box)) scrollers.push(box);
  const reachable = () => {
    for (const box of scrollers) {
      if (box.scrollWidth > box.clientWidth) {
        box.tabIndex = 0;
      } else if (box.getAttribute("tabindex") === "0" && !box.dataset.keepTabindex) {
        box.removeAttribute("tabindex");
      }
    }
  };
  for (const box of scrollers) if (box.getAttribute("tabindex") === "0") box.dataset.keepTabindex = "1";
  reachable();
  window.addEventListener("resize", reachable);

  for (const menu of document.querySelectorAll("details.ecti-menu")) {
    const summary = menu.querySelector("summary");
    menu.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        summary.focus();
      }
    });
    menu.addEventListener("focusout", (event) => {
      if (menu.open && event.relatedTarget && !menu.contains(event.relatedTarget)) menu.open = false;
    });
    document.addEventListener("click", (event) => {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
  }
})();
