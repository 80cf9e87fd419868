import { registry } from "@web/core/registry";

// An operator opens the exception queue, fixes a failed payload, previews and replays it.
registry.category("web_tour.tours").add("hc_exception_queue_replay", {
    steps: () => [
        {
            content: "The failed message is grouped under its backend",
            trigger: ".o_group_name:contains('Tour PAS')",
            run: "click",
        },
        {
            content: "Open the failed message",
            trigger: ".o_data_row td:contains('TOUR-1')",
            run: "click",
        },
        {
            content: "The form says why it failed",
            trigger: ".alert-danger:contains('No field of Contact')",
        },
        {
            trigger: "button:contains('Edit payload and replay')",
            run: "click",
        },
        {
            content: "Fix the payload: the legacy field becomes the contact name",
            trigger: ".modal div[name='payload'] textarea",
            run: 'edit {"id": "TOUR-1", "name": "Tour Patient Fixed"}',
        },
        {
            trigger: ".modal button:contains('Preview')",
            run: "click",
        },
        {
            content: "The dry run shows the value the replay would write",
            trigger: ".modal div[name='preview'] td:contains('Tour Patient Fixed')",
        },
        {
            trigger: ".modal button:contains('Replay')",
            run: "click",
        },
        {
            content: "The replay is a new message, queued for processing",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Queued')",
        },
        {
            trigger: ".o_form_view div[name='replay_of_id'] a, .o_form_view div[name='replay_of_id'] span",
        },
    ],
});

registry.category("web_tour.tours").add("hc_exception_queue_replay_done", {
    steps: () => [
        {
            content: "After the job ran, the replayed message is done",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Done')",
        },
        {
            trigger: ".o_form_view div[name='record_ref']:contains('Tour Patient Fixed')",
        },
    ],
});
