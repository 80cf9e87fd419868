import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// A consultant drafts the push mapping of a SOAP gateway from its WSDL, completes the line the
// draft could not pair, tries it on an order and activates it.
registry.category("web_tour.tours").add("hc_mapping_draft_push", {
    steps: () => [
        { content: "Open the flow's actions", trigger: ".o_form_view .o_cp_action_menus button", run: "click" },
        { trigger: ".o-dropdown--menu .o-dropdown-item:contains('Draft mappings')", run: "click" },
        {
            content: "The operation's request and answer elements, from the WSDL",
            trigger: ".modal div[name='input_tree']:contains('DocNo'):contains('SupplierCode')",
        },
        { trigger: ".modal div[name='output_tree']:contains('GatewayOrderNo')" },
        { trigger: ".modal button[name='action_generate']", run: "click" },
        {
            content: "The draft pairs names; the gateway's document number has no source yet",
            trigger: ".o_form_view .o_data_row:has(td[name='target_path_id']:contains('PurchaseDocument.SupplierCode')) td[name='source_path_id']:contains('vendor_code')",
        },
        {
            trigger: ".o_form_view .o_data_row:has(td[name='target_path_id']:contains('PurchaseDocument.DocNo')) td[name='source_path_id']",
            run: "click",
        },
        { trigger: ".o_selected_row td[name='source_path_id'] input", run: "edit reference" },
        {
            content: "Pick the order's reference from the canonical document",
            trigger: ".o-autocomplete--dropdown-item a:contains('reference')",
            run: "click",
        },
        ...stepUtils.saveForm(),
        { content: "Try it on an order", trigger: "button:contains('Try it')", run: "click" },
        { trigger: ".modal div[name='record_id'] input", run: "edit TOUR-PO" },
        { trigger: ".o-autocomplete--dropdown-item a:contains('TOUR-PO')", run: "click" },
        { trigger: ".modal button[name='action_try']", run: "click" },
        {
            content: "The request the gateway would get fits its operation",
            trigger: ".modal div[name='result']:contains('TOUR-PO'):contains('The request fits the operation')",
        },
        { trigger: ".modal button:contains('Close')", run: "click" },
        { trigger: "body:not(:has(.modal))" },
        { content: "Activate the draft", trigger: "button[name='action_activate']", run: "click" },
        { trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Active')" },
    ],
});

// The response mapping: the status line translates the gateway's codes with a code table.
registry.category("web_tour.tours").add("hc_mapping_draft_response", {
    steps: () => [
        {
            trigger: ".o_form_view .o_data_row:has(td[name='target_path_id']:contains('status')) td[name='transform']",
            run: "click",
        },
        { trigger: ".o_selected_row td[name='transform'] .o_select_menu_toggler", run: "click" },
        { trigger: ".o_select_menu_menu .o_select_menu_item:contains('Code table')", run: "click" },
        { trigger: ".o_selected_row td[name='param_table_id'] input", run: "edit ACME tour status" },
        { trigger: ".o-autocomplete--dropdown-item a:contains('ACME tour status')", run: "click" },
        ...stepUtils.saveForm(),
        { trigger: "button[name='action_activate']", run: "click" },
        { trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Active')" },
    ],
});

registry.category("web_tour.tours").add("hc_mapping_draft_confirm", {
    steps: () => [
        { content: "Confirm the order", trigger: ".o_form_view button[name='button_confirm']", run: "click" },
        { trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Purchase Order')" },
    ],
});

registry.category("web_tour.tours").add("hc_mapping_draft_acknowledged", {
    steps: () => [
        { content: "The gateway accepted it", trigger: ".o_form_view div[name='hc_remote_state']:contains('Accepted')" },
        { trigger: ".o_form_view div[name='hc_remote_order_number']:contains('GW-00001')" },
    ],
});
