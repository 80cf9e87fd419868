import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// A consultant changes a code table entry...
registry.category("web_tour.tours").add("hc_mapping_code_table", {
    steps: () => [
        {
            content: "Edit the value of legacy code 30",
            trigger: ".o_field_widget[name='entry_ids'] .o_data_row:has(td[name='legacy_code']:contains('30')) td[name='value']",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name='entry_ids'] .o_selected_row td[name='value'] input",
            run: "edit Net thirty days",
        },
        ...stepUtils.saveForm(),
    ],
});

// ...then makes a new draft of the active mapping, changes a line, tries it and activates it.
registry.category("web_tour.tours").add("hc_mapping_new_version", {
    steps: () => [
        {
            content: "Start a new draft from the active version",
            trigger: ".o_form_view button[name='action_duplicate_draft']",
            run: "click",
        },
        { trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Draft')" },
        {
            content: "Emails now arrive in lower case",
            trigger: ".o_field_widget[name='line_ids'] .o_data_row:has(td[name='source_path_id']:contains('email')) td[name='params']",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name='line_ids'] .o_selected_row td[name='params'] textarea",
            run: 'edit {"case": "lower"}',
        },
        ...stepUtils.saveForm(),
        { content: "Try it on a sample payload", trigger: "button:contains('Try it')", run: "click" },
        {
            trigger: ".modal div[name='payload'] textarea",
            run: 'edit {"code": "SUP-0077", "name": "Sample", "email": "Orders@Example.COM", "payment_terms_days": 30}',
        },
        { trigger: ".modal button[name='action_try']", run: "click" },
        {
            content: "Each line shows its result: the new case and the new code table value",
            trigger: ".modal div[name='result']:contains('orders@example.com'):contains('Net thirty days')",
        },
        { trigger: ".modal button:contains('Close')", run: "click" },
        { trigger: "body:not(:has(.modal))" },
        { content: "Activate the new version", trigger: "button[name='action_activate']", run: "click" },
        { trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Active')" },
    ],
});
