import { registry } from "@web/core/registry";

// A stock steward reviews last night's reconciliation: applies a real difference, dismisses
// one Odoo is right about, and leaves the expired lot for the pharmacy.
registry.category("web_tour.tours").add("hc_reconciliation_review", {
    steps: () => [
        {
            content: "The dashboard counts the open discrepancies",
            trigger: ".o_form_view button[name='action_open_discrepancies']:contains('3')",
        },
        {
            content: "Open the last reconciliation",
            trigger: ".o_form_view div[name='last_reconciliation_id'] a",
            run: "click",
        },
        { trigger: ".o_form_view .o_field_widget[name='state'] .o_arrow_button_current:contains('Done')" },
        { trigger: ".o_form_view div[name='line_ids'] tr.o_data_row:contains('LOT-OLD'):contains('Expired lot in stock')" },
        { content: "Review the open lines", trigger: ".o_form_view button[name='action_view_lines']", run: "click" },
        {
            content: "Select the gloves counted short in the pharmacy",
            trigger: ".o_list_renderer tr.o_data_row:contains('Tour gloves') td.o_list_record_selector input",
            run: "click",
        },
        { content: "Apply it", trigger: ".o_control_panel button[name='action_apply']", run: "click" },
        { trigger: ".o_list_renderer:not(:has(tr.o_data_row:contains('Tour gloves')))" },
        {
            content: "Select the saline line",
            trigger: ".o_list_renderer tr.o_data_row:contains('Tour saline') td.o_list_record_selector input",
            run: "click",
        },
        { content: "Dismiss it", trigger: ".o_control_panel button[name='action_dismiss']", run: "click" },
        { content: "Say why", trigger: ".modal div[name='reason'] input", run: "edit Counted again: Odoo is right" },
        { trigger: ".modal button[name='action_confirm']", run: "click" },
        { content: "Only the expired lot stays open", trigger: ".o_list_renderer:not(:has(tr.o_data_row:contains('Tour saline')))" },
        { trigger: ".o_list_renderer tr.o_data_row:contains('LOT-OLD')" },
    ],
});
