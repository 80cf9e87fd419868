import { registry } from "@web/core/registry";

// A maintenance planner opens the requests made from CMMS work orders, groups them by team and finds
// each one in the team its routing rule chose, the breakdown of critical equipment marked urgent.
registry.category("web_tour.tours").add("hc_maintenance_routed_by_team", {
    steps: () => [
        {
            content: "The planner filters the requests that came from the CMMS",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            trigger: ".o_filter_menu .o-dropdown-item:contains('From the CMMS')",
            run: "click",
        },
        {
            content: "and groups them by team",
            trigger: ".o_group_by_menu .o-dropdown-item:contains('Team')",
            run: "click",
        },
        {
            content: "The critical breakdown's team is there",
            trigger: ".o_list_view .o_group_name:contains('Critical care response')",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Ventilator down (tour)')",
        },
        {
            content: "The pump's breakdown went to the default team",
            trigger: ".o_list_view .o_group_name:contains('Biomedical engineering')",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Pump occluded (tour)')",
        },
        {
            content: "No request from the CMMS landed elsewhere",
            trigger: ".o_list_view:not(:has(.o_group_name:contains('Facilities')))",
        },
        {
            content: "The ventilator's request names its rule and is urgent",
            trigger: ".o_list_view .o_data_row:contains('Ventilator down (tour)') td.o_data_cell[name='name']",
            run: "click",
        },
        {
            trigger: ".o_form_view .badge:contains('Urgent: critical equipment down')",
        },
        {
            trigger: ".o_form_view [name='hc_route_id']:contains('Tour: critical breakdowns')",
        },
    ],
});
