import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// A buyer opens an order the gateway rejected, sees why, fixes the vendor code and resyncs.
registry.category("web_tour.tours").add("hc_po_resync", {
    steps: () => [
        { content: "The order is flagged", trigger: ".o_form_view .o_stat_info:contains('Sync failed')" },
        {
            content: "The gateway's reason is on the order",
            trigger: ".o_form_view div[name='hc_remote_reason']:contains('unknown vendor SUP-9999')",
        },
        { content: "Open the vendor", trigger: ".o_form_view div[name='partner_id'] a", run: "click" },
        { trigger: ".o_form_view .nav-link[name='sales_purchases']", run: "click" },
        {
            content: "Give the vendor its code in the legacy system",
            trigger: ".o_form_view div[name='ref'] input",
            run: "edit SUP-0007",
        },
        ...stepUtils.saveForm(),
        { content: "Back to the order", trigger: ".o_breadcrumb .breadcrumb-item:not(:first-child) a", run: "click" },
        { trigger: ".o_form_view button[name='action_hc_resync']", run: "click" },
        { content: "The order is queued again", trigger: ".o_form_view .o_stat_info:contains('Pending')" },
    ],
});

registry.category("web_tour.tours").add("hc_po_resync_done", {
    steps: () => [
        { content: "Back in sync", trigger: ".o_form_view .o_stat_info:contains('In sync')" },
        { trigger: ".o_form_view div[name='hc_remote_state']:contains('Accepted')" },
        { trigger: ".o_form_view div[name='hc_remote_order_number']:contains('LPO-')" },
        { content: "The purchase dashboard counts orders to sync", trigger: ".o_breadcrumb .breadcrumb-item:first-child a", run: "click" },
        { trigger: ".o_purchase_dashboard .o_hc_sync_cards:contains('Sync failed'):contains('Waiting to sync')" },
    ],
});
