import { Component, useEffect, xml } from "@odoo/owl";
import { browser } from "@web/core/browser/browser";
import { registry } from "@web/core/registry";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

/**
 * Reloads the form's record every few seconds while its state is one of `refresh_states` (default:
 * running), so a batch run's progress moves without pressing anything. An edited record is
 * left alone: reloading would throw the user's changes away.
 *
 *     <widget name="hc_autorefresh" refresh_states="running" interval="3000"/>
 */
export class HcAutoRefresh extends Component {
    static template = xml`<span class="d-none o_hc_autorefresh" t-att-data-active="active ? '1' : '0'"/>`;
    static props = {
        ...standardWidgetProps,
        states: { type: Array },
        interval: { type: Number },
    };

    get active() {
        return this.props.states.includes(this.props.record.data.state);
    }

    setup() {
        useEffect(
            (active) => {
                if (!active) {
                    return;
                }
                const timer = browser.setInterval(async () => {
                    const record = this.props.record;
                    if (record.dirty || (await record.isDirty())) {
                        return;
                    }
                    await record.load();
                }, this.props.interval);
                return () => browser.clearInterval(timer);
            },
            () => [this.active]
        );
    }
}

registry.category("view_widgets").add("hc_autorefresh", {
    component: HcAutoRefresh,
    extractProps: ({ attrs }) => ({
        states: (attrs.refresh_states || "running").split(",").map((s) => s.trim()),
        interval: parseInt(attrs.interval || "3000", 10),
    }),
});
