"""Several campaigns from one install (api.md "Campaigns"): the live set each web process keeps,
and the rules `leadcap campaigns …` applies. (leadcap/campaign/, singular, is the campaign view:
stats, the export, /admin/.)"""
