import { registry } from "@web/core/registry";

// A budget owner finds, from the Purchase menu, an order held for their budget and approves it.
registry.category("web_tour.tours").add("hc_budget_owner_approves_held_order", {
    steps: () => [
        { content: "Purchase's Budgets menu", trigger: ".o_main_navbar .o_menu_sections button:contains('Budgets')", run: "click" },
        { trigger: ".o-dropdown--menu .o-dropdown-item:contains('Orders held for budget')", run: "click" },
        {
            content: "The held order is listed",
            trigger: ".o_list_view .o_data_row td[name='name']:contains('HC-TOUR-HOLD')",
            run: "click",
        },
        {
            content: "Why it is held: the cost centre, the budget and its amounts",
            trigger: ".o_form_view .alert-warning:contains('Held for budget approval'):contains('CC-4110'):contains('remaining')",
        },
        { trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('To Approve')" },
        { content: "Approve it over budget", trigger: "button[name='action_hc_budget_approve']", run: "click" },
        { trigger: ".modal .modal-footer button.btn-primary", run: "click" },
        {
            content: "Confirmed: a purchase order now",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Purchase Order')",
        },
        { trigger: ".o_form_view .alert-warning:contains('Approved over budget')" },
        { trigger: ".o_form_view:not(:has(button[name='action_hc_budget_approve']))" },
    ],
});
